import { Account, AccountRole, Contact, PermissionGrant, Store } from '../../accounts/entities/index.js';
import { OAuthClient } from '../clients/client.entity.js';
import { ResourceServer } from '../clients/resource-server.entity.js';
import { SigningKey } from '../keys/signing-key.entity.js';
import { OidcPayload } from '../oidc/payload.entity.js';

/** Every entity Behalf's DataSource knows. */
export const entities = [Store, Contact, Account, AccountRole, PermissionGrant, OidcPayload, SigningKey, OAuthClient, ResourceServer];

/**
 * Registers (or replaces) a client after validating its metadata the way
 * oidc-provider will, so a bad registration fails here, not at first use.
 */
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { ClientStore, BehalfClientMetadata } from './client-store.js';
import { GRANT_TYPE as TOKEN_EXCHANGE_GRANT } from '../../token-exchange/types.js';
import type { ResourceServerRegistry } from './resource-servers.js';
import type { StoreService } from '../../accounts/store-service.js';
import { BEHALF_CLIENT_PROPERTIES, validateBehalfClientProperty } from '../oidc/client-metadata.js';
import { SUPPORTED_SCOPES } from '../oidc/scopes.js';

export class ClientRegistrationError extends Error {
  override name = 'ClientRegistrationError';
}

let validator: Provider | undefined;

/** A key-less provider used only to run oidc-provider's client metadata validation. */
function metadataValidator(): Provider {
  if (validator) return validator;
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  validator = new Provider('https://validator.invalid', {
    jwks: { keys: [{ ...ec, alg: 'ES256', use: 'sig' }, { ...rsa, alg: 'RS256', use: 'sig' }] } as never,
    enabledJWA: { idTokenSigningAlgValues: ['RS256', 'ES256'], userinfoSigningAlgValues: ['RS256', 'ES256'] },
    adapter: () => ({ find: async () => undefined }) as never,
    features: { devInteractions: { enabled: false }, clientCredentials: { enabled: true }, rpInitiatedLogout: { enabled: true }, introspection: { enabled: true }, revocation: { enabled: true } },
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      id_token_signed_response_alg: 'RS256',
      token_endpoint_auth_method: 'client_secret_basic',
    },
    responseTypes: ['code', 'none'],
    extraClientMetadata: { properties: BEHALF_CLIENT_PROPERTIES, validator: validateBehalfClientProperty as never },
    scopes: [...SUPPORTED_SCOPES],
  });
  // The token-exchange grant must be known for clients that list it; the real handler lives in the real provider.
  validator.registerGrantType(TOKEN_EXCHANGE_GRANT, async () => undefined);
  return validator;
}

export async function registerClient(
  services: { clients: ClientStore; resourceServers: ResourceServerRegistry; stores: StoreService },
  metadata: BehalfClientMetadata,
  secret: string | null,
): Promise<void> {
  try {
    await metadataValidator().Client.validate({ ...metadata, ...(secret ? { client_secret: secret } : {}) } as never);
  } catch (error) {
    const detail = error instanceof errors.OIDCProviderError ? error.error_description : (error as Error).message;
    throw new ClientRegistrationError(`client ${metadata.client_id}: ${detail}`);
  }
  if (!secret && metadata.token_endpoint_auth_method !== 'none') {
    throw new ClientRegistrationError(`client ${metadata.client_id}: a confidential client needs a secret (or token_endpoint_auth_method "none" for a public client)`);
  }
  if (metadata.client_kind === 'storefront' && !(metadata.store && (await services.stores.findBySlug(metadata.store)))) {
    throw new ClientRegistrationError(`client ${metadata.client_id}: unknown store ${metadata.store}`);
  }
  await services.resourceServers.refresh();
  for (const key of ['allowed_resources', 'resource_servers'] as const) {
    for (const resource of (metadata[key] as string[] | undefined) ?? []) {
      if (!services.resourceServers.get(resource)) throw new ClientRegistrationError(`client ${metadata.client_id}: ${key} names an unknown resource server ${resource}`);
    }
  }
  await services.clients.save(metadata, secret);
}

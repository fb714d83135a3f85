/**
 * From `clients create` options to Behalf client metadata, with defaults that
 * fit each kind of client; oidc-provider (through registerClient) has the
 * final word on validity.
 */
import type { BehalfClientMetadata } from '../server/clients/client-repository.js';
import type { Services } from '../server/system.js';
import { normaliseResourceIndicator } from '../server/clients/resource-indicator.js';
import { PKCE_OPTIONAL } from '../server/oidc/pkce-policy.js';
import { CliError } from './errors.js';
import type { ClientRecord } from '../server/clients/client-records.js';

export type { ClientKind } from '../server/clients/client-kind.js';
import type { ClientKind } from '../server/clients/client-kind.js';

export interface ClientCreateOptions {
  name?: string;
  kind?: ClientKind;
  store?: string;
  redirectUri?: string[];
  postLogoutRedirectUri?: string[];
  grantType?: string[];
  scope?: string;
  resource?: string[];
  /** The resource a client_credentials or delegation request gets when it names none (one of `resource`). */
  defaultResource?: string;
  operates?: string[];
  /** Delegation rules as `<from>=<to>`: a token for `from` may be exchanged for one for `to`. */
  delegation?: string[];
  firstParty?: boolean;
  public?: boolean;
  /** A legacy confidential client that cannot send PKCE (required by default). */
  pkceOptional?: boolean;
  secret?: string;
}

/** Short secrets are guessable; generated ones are 43 characters. */
export const MIN_SECRET_LENGTH = 16;

export function buildClientMetadata(clientId: string, options: ClientCreateOptions): BehalfClientMetadata {
  // A store implies a storefront; without one, a machine-to-machine client is the safe default.
  const kind = options.kind ?? (options.store ? 'storefront' : 'service');
  if (options.store && kind !== 'storefront') throw new CliError(`--store is only for storefront clients (this one is ${kind})`);
  const delegation = (options.delegation ?? []).map(delegationRule);
  const grantTypes =
    options.grantType ??
    (kind === 'service' ? ['client_credentials', ...(delegation.length ? [TOKEN_EXCHANGE] : [])] : ['authorization_code', 'refresh_token']);
  // oidc-provider accepts this pairing, but a client that cannot authenticate must not get tokens for itself.
  if (options.public && grantTypes.includes('client_credentials'))
    throw new CliError('a public client (--public) cannot use the client_credentials grant');
  if (options.public && options.pkceOptional)
    throw new CliError('a public client (--public) must use PKCE: --pkce-optional is for legacy confidential clients only');
  // oidc-provider insists response_types match the grants: code flow ⇔ "code".
  const responseTypes = grantTypes.includes('authorization_code') ? ['code'] : [];
  const scope = options.scope?.trim().split(/\s+/).filter(Boolean).join(' ');
  if (options.defaultResource !== undefined && !sameResourceIn(options.defaultResource, options.resource ?? []))
    throw new CliError(
      `--default-resource ${options.defaultResource} must also be one of the resources the client may request (--resource ${options.defaultResource})`,
    );
  return {
    client_id: clientId,
    ...(options.name ? { client_name: options.name } : {}),
    client_kind: kind,
    ...(options.store ? { store: options.store } : {}),
    first_party: options.firstParty === true,
    redirect_uris: options.redirectUri ?? [],
    post_logout_redirect_uris: options.postLogoutRedirectUri ?? [],
    grant_types: grantTypes,
    response_types: responseTypes,
    ...(scope ? { scope } : {}),
    allowed_resources: options.resource ?? [],
    ...(options.defaultResource !== undefined ? { default_resource: options.defaultResource } : {}),
    resource_servers: options.operates ?? [],
    ...(delegation.length ? { delegation } : {}),
    ...(options.public ? { token_endpoint_auth_method: 'none' } : {}),
    ...(options.pkceOptional ? { [PKCE_OPTIONAL]: true } : {}),
  };
}

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

/** `<from>=<to>` (resource URIs or aliases) as a delegation rule. */
function delegationRule(value: string): { from: string; to: string } {
  const at = value.indexOf('=');
  const from = value.slice(0, at).trim();
  const to = value.slice(at + 1).trim();
  if (at < 0 || !from || !to) throw new CliError(`--delegation ${value}: write it as <from resource>=<to resource>`);
  return { from, to };
}

/** Compared as oidc-provider will (normalised); an invalid URI is left for the metadata validation to name. */
function sameResourceIn(resource: string, list: string[]): boolean {
  const normalise = (value: string) => {
    try {
      return normaliseResourceIndicator(value);
    } catch {
      return value;
    }
  };
  return list.map(normalise).includes(normalise(resource));
}

export function checkSecret(secret: string): void {
  if (secret.length < MIN_SECRET_LENGTH)
    throw new CliError(`a client secret must be at least ${MIN_SECRET_LENGTH} characters (omit --secret to have one generated)`);
}

/** registerClient checks allowed_resources; the resource servers a client operates must exist too. */
export async function checkOperatedResources(services: Services, metadata: BehalfClientMetadata): Promise<void> {
  await services.resourceServers.refresh();
  for (const identifier of (metadata.resource_servers as string[] | undefined) ?? []) {
    if (!services.resourceServers.get(identifier))
      throw new CliError(
        `client ${metadata.client_id}: unknown resource server ${identifier} (create it with \`resource-servers create\`)`,
      );
  }
}

export type { ClientRecord } from '../server/clients/client-records.js';

/** Database clients plus the static ones from the configuration; secrets are never read. */
export async function listClients(services: Services): Promise<ClientRecord[]> {
  const { listClientRecords } = await import('../server/clients/client-records.js');
  return listClientRecords(services.clients, services.config.clients);
}

export async function findClient(services: Services, clientId: string): Promise<ClientRecord> {
  const record = (await listClients(services)).find((candidate) => candidate.metadata.client_id === clientId);
  if (!record) throw new CliError(`no client ${clientId}`);
  return record;
}

/** Database clients only: configuration clients are changed in the configuration. */
export async function findDatabaseClient(services: Services, clientId: string): Promise<ClientRecord> {
  const record = await findClient(services, clientId);
  if (record.source === 'config') throw new CliError(`client ${clientId} is defined in the configuration; change it there`);
  return record;
}

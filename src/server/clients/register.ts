/**
 * Registers (or replaces) a client after validating its metadata the way
 * oidc-provider will, so a bad registration fails here, not at first use.
 */
import type { EntityManager } from 'typeorm';
import type { ClientRepository, BehalfClientMetadata } from './client-repository.js';
import type { ResourceServerRegistry } from './resource-servers.js';
import type { StoreService } from '../../accounts/store-service.js';
import { clientMetadataProblem } from '../oidc/client-validation.js';

export class ClientRegistrationError extends Error {
  override name = 'ClientRegistrationError';
  constructor(
    clientId: string,
    /** What is wrong, naming the field, without the client id (what an API answers). */
    readonly problem: string,
  ) {
    super(`client ${clientId}: ${problem}`);
  }
}

export interface RegistrationServices {
  clients: ClientRepository;
  resourceServers: ResourceServerRegistry;
  stores: StoreService;
}

/** Throws a ClientRegistrationError naming what is wrong with `metadata` (and `secret`); otherwise nothing. */
export async function checkClientRegistration(
  services: Omit<RegistrationServices, 'clients'>,
  metadata: BehalfClientMetadata,
  secret: string | null,
  options: { strict?: boolean } = {},
): Promise<void> {
  const fail = (problem: string): never => {
    throw new ClientRegistrationError(metadata.client_id, problem);
  };
  const problem = await clientMetadataProblem({ ...metadata, ...(secret ? { client_secret: secret } : {}) }, options);
  if (problem) fail(problem);
  if (!secret && metadata.token_endpoint_auth_method !== 'none') {
    fail('a confidential client needs a secret (or token_endpoint_auth_method "none" for a public client)');
  }
  if (metadata.client_kind === 'storefront' && !(metadata.store && (await services.stores.findBySlug(metadata.store)))) {
    fail(`store: unknown store ${metadata.store}`);
  }
  await services.resourceServers.refresh();
  for (const key of ['allowed_resources', 'resource_servers'] as const) {
    for (const resource of (metadata[key] as string[] | undefined) ?? []) {
      if (!services.resourceServers.get(resource)) fail(`${key} names an unknown resource server ${resource}`);
    }
  }
}

export async function registerClient(
  services: RegistrationServices,
  metadata: BehalfClientMetadata,
  secret: string | null,
  manager?: EntityManager,
): Promise<void> {
  await checkClientRegistration(services, metadata, secret);
  await services.clients.save(metadata, secret, manager);
}

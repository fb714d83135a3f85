/**
 * Registers (or replaces) a client after validating its metadata the way
 * oidc-provider will, so a bad registration fails here, not at first use.
 */
import type { ClientRepository, BehalfClientMetadata } from './client-repository.js';
import type { ResourceServerRegistry } from './resource-servers.js';
import type { StoreService } from '../../accounts/store-service.js';
import { clientMetadataProblem } from '../oidc/client-validation.js';

export class ClientRegistrationError extends Error {
  override name = 'ClientRegistrationError';
}

export async function registerClient(
  services: { clients: ClientRepository; resourceServers: ResourceServerRegistry; stores: StoreService },
  metadata: BehalfClientMetadata,
  secret: string | null,
): Promise<void> {
  const problem = await clientMetadataProblem({ ...metadata, ...(secret ? { client_secret: secret } : {}) });
  if (problem) throw new ClientRegistrationError(`client ${metadata.client_id}: ${problem}`);
  if (!secret && metadata.token_endpoint_auth_method !== 'none') {
    throw new ClientRegistrationError(
      `client ${metadata.client_id}: a confidential client needs a secret (or token_endpoint_auth_method "none" for a public client)`,
    );
  }
  if (metadata.client_kind === 'storefront' && !(metadata.store && (await services.stores.findBySlug(metadata.store)))) {
    throw new ClientRegistrationError(`client ${metadata.client_id}: unknown store ${metadata.store}`);
  }
  await services.resourceServers.refresh();
  for (const key of ['allowed_resources', 'resource_servers'] as const) {
    for (const resource of (metadata[key] as string[] | undefined) ?? []) {
      if (!services.resourceServers.get(resource))
        throw new ClientRegistrationError(`client ${metadata.client_id}: ${key} names an unknown resource server ${resource}`);
    }
  }
  await services.clients.save(metadata, secret);
}

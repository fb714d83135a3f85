/**
 * Behalf's client metadata beyond the standard: validated by oidc-provider
 * (synchronously) whenever a client is loaded, and read back by the
 * interaction and token policies.
 */
import type { ClientMetadata } from 'oidc-provider';
import { errors } from 'oidc-provider';
import { normaliseResourceIndicator } from '../clients/resource-indicator.js';

export const CLIENT_KINDS = ['storefront', 'backoffice', 'service'] as const;
export type ClientKind = (typeof CLIENT_KINDS)[number];

export const BEHALF_CLIENT_PROPERTIES = ['first_party', 'client_kind', 'store', 'allowed_resources', 'resource_servers'];

function invalid(message: string): never {
  throw new errors.InvalidClientMetadata(message);
}

function checkResourceList(key: string, value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) invalid(`${key} must be an array of resource indicators`);
  try {
    return value.map((item) => normaliseResourceIndicator(item));
  } catch (error) {
    invalid(`${key}: ${(error as Error).message}`);
  }
}

/** `extraClientMetadata.validator`: runs for each property on every client load. */
export function validateBehalfClientProperty(_ctx: unknown, key: string, value: unknown, metadata: ClientMetadata): void {
  switch (key) {
    case 'first_party':
      if (value === undefined) metadata.first_party = false;
      else if (typeof value !== 'boolean') invalid('first_party must be a boolean');
      return;
    case 'client_kind':
      if (value === undefined) metadata.client_kind = 'service';
      else if (!CLIENT_KINDS.includes(value as ClientKind)) invalid(`client_kind must be one of ${CLIENT_KINDS.join(', ')}`);
      if (metadata.client_kind === 'storefront' && typeof metadata.store !== 'string') invalid('a storefront client must name its store');
      return;
    case 'store':
      if (value !== undefined && (typeof value !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(value))) invalid('store must be a store slug');
      return;
    case 'allowed_resources':
      metadata.allowed_resources = checkResourceList(key, value) ?? [];
      return;
    case 'resource_servers':
      metadata.resource_servers = checkResourceList(key, value) ?? [];
      return;
  }
}

export interface BehalfClientView {
  clientId: string;
  kind: ClientKind;
  store?: string;
  firstParty: boolean;
  allowedResources: string[];
  resourceServers: string[];
}

/** Behalf's view of a loaded oidc-provider client. */
export function behalfClient(client: { clientId: string; metadata(): ClientMetadata }): BehalfClientView {
  const metadata = client.metadata();
  return {
    clientId: client.clientId,
    kind: (metadata.client_kind as ClientKind | undefined) ?? 'service',
    store: metadata.store as string | undefined,
    firstParty: metadata.first_party === true,
    allowedResources: (metadata.allowed_resources as string[] | undefined) ?? [],
    resourceServers: (metadata.resource_servers as string[] | undefined) ?? [],
  };
}

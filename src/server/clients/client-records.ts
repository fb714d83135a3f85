/**
 * Every client as an administrator sees it: the database's and the static
 * ones from the configuration, with their metadata but never a secret (only
 * whether one is set and the state of a rotation).
 */
import type { BehalfClientMetadata, ClientRepository } from './client-repository.js';
import type { OAuthClient } from './client.entity.js';

export interface ClientRecord {
  metadata: BehalfClientMetadata;
  source: 'database' | 'config';
  hasSecret: boolean;
  secretRotatedAt: Date | null;
  /** While a rotated-out secret is still accepted. */
  previousSecretExpiresAt: Date | null;
  /** Registered through RFC 7591 dynamic registration. */
  dynamic: boolean;
  createdAt: Date | null;
  updatedAt: Date | null;
}

/** Metadata without any secret: what may be shown. */
export function withoutSecret(metadata: Record<string, unknown>): BehalfClientMetadata {
  const { client_secret: _secret, ...rest } = metadata;
  return rest as BehalfClientMetadata;
}

function fromRow(row: OAuthClient, hasSecret: boolean): ClientRecord {
  const graceLive = row.previousSecretExpiresAt && row.previousSecretExpiresAt > new Date() ? row.previousSecretExpiresAt : null;
  return {
    metadata: withoutSecret({ ...row.metadata, client_id: row.clientId }),
    source: 'database',
    hasSecret,
    secretRotatedAt: row.secretRotatedAt,
    previousSecretExpiresAt: graceLive,
    dynamic: row.registrationResources !== null,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

function fromConfig(client: Record<string, unknown> & { client_id: string }): ClientRecord {
  return {
    metadata: withoutSecret(client),
    source: 'config',
    hasSecret: typeof client.client_secret === 'string',
    secretRotatedAt: null,
    previousSecretExpiresAt: null,
    dynamic: false,
    createdAt: null,
    updatedAt: null,
  };
}

/** Database clients plus the static ones from the configuration; secrets are never read. */
export async function listClientRecords(
  clients: ClientRepository,
  configClients: (Record<string, unknown> & { client_id: string })[],
): Promise<ClientRecord[]> {
  const [rows, withSecret] = await Promise.all([clients.list(), clients.idsWithSecret()]);
  return [...rows.map((row) => fromRow(row, withSecret.has(row.clientId))), ...configClients.map(fromConfig)];
}

export async function findClientRecord(
  clients: ClientRepository,
  configClients: (Record<string, unknown> & { client_id: string })[],
  clientId: string,
): Promise<ClientRecord | undefined> {
  const row = await clients.find(clientId);
  if (row) return fromRow(row, (await clients.idsWithSecret()).has(clientId));
  const configured = configClients.find((client) => client.client_id === clientId);
  return configured ? fromConfig(configured) : undefined;
}

/** The admin API's (and `clients show --json`'s) JSON for a client. */
export function clientJson(record: ClientRecord): Record<string, unknown> {
  return {
    ...record.metadata,
    has_secret: record.hasSecret,
    secret_rotated_at: record.secretRotatedAt?.toISOString() ?? null,
    previous_secret_expires_at: record.previousSecretExpiresAt?.toISOString() ?? null,
    registered_dynamically: record.dynamic,
    source: record.source,
    created_at: record.createdAt?.toISOString() ?? null,
    updated_at: record.updatedAt?.toISOString() ?? null,
  };
}

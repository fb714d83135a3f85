/**
 * Administrative changes to clients, shared by the admin HTTP API and the CLI:
 * each is validated like a registration, written with its `admin.client.*`
 * audit record in one transaction (no change without its record), and never
 * hands back a secret except the one it just generated.
 */
import type { DataSource } from 'typeorm';
import type { AuditEventInput } from '../../audit/index.js';
import type { StoreService } from '../../accounts/store-service.js';
import type { AuditService } from '../audit-trail/audit-service.js';
import { generateClientSecret, type BehalfClientMetadata, type ClientRepository } from './client-repository.js';
import { findClientRecord, type ClientRecord } from './client-records.js';
import { checkClientRegistration, ClientRegistrationError } from './register.js';
import type { ResourceServerRegistry } from './resource-servers.js';
import { mergePatch } from '../../common/merge-patch.js';

export interface ClientChangeServices {
  dataSource: DataSource;
  clients: ClientRepository;
  resourceServers: ResourceServerRegistry;
  stores: StoreService;
  audit: AuditService;
  /** Static clients from the configuration: shown, never changed here. */
  configClients: (Record<string, unknown> & { client_id: string })[];
}

/** Who makes the change, as the audit trail names them. */
export type ChangeActor = Pick<AuditEventInput, 'actor' | 'ip' | 'userAgent'> & { details?: AuditEventInput['details'] };

export type ClientChangeErrorCode = 'invalid_client_metadata' | 'invalid_request' | 'not_found' | 'conflict';

export class ClientChangeError extends Error {
  override name = 'ClientChangeError';
  constructor(
    readonly code: ClientChangeErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Client ids travel in URLs, Basic credentials and `may_act`: RFC 3986 unreserved characters only. */
const CLIENT_ID = /^[A-Za-z0-9._~-]{1,200}$/;
/** Fields the API shows but a change may not set (the secret has its own rotation). */
const READ_ONLY = [
  'client_secret',
  'has_secret',
  'secret_rotated_at',
  'previous_secret_expires_at',
  'registered_dynamically',
  'source',
  'created_at',
  'updated_at',
  'client_id_issued_at',
  'client_secret_expires_at',
  'registration_access_token',
  'registration_client_uri',
];
export const MAX_GRACE_SECONDS = 604_800;

function readOnlyProblem(body: Record<string, unknown>): void {
  const hit = READ_ONLY.find((key) => key in body);
  if (hit)
    throw new ClientChangeError(
      'invalid_client_metadata',
      `${hit} cannot be set here${hit === 'client_secret' ? ' (rotate the secret instead)' : ''}`,
    );
}

async function validated(services: ClientChangeServices, metadata: BehalfClientMetadata, secret: string | null): Promise<void> {
  try {
    await checkClientRegistration(services, metadata, secret, { strict: true });
  } catch (error) {
    if (error instanceof ClientRegistrationError) throw new ClientChangeError('invalid_client_metadata', error.problem);
    throw error;
  }
}

async function databaseRecord(services: ClientChangeServices, clientId: string): Promise<ClientRecord> {
  const record = await findClientRecord(services.clients, services.configClients, clientId);
  if (!record) throw new ClientChangeError('not_found', `no client ${clientId}`);
  if (record.source === 'config')
    throw new ClientChangeError('conflict', `client ${clientId} is defined in the configuration; change it there`);
  return record;
}

async function reread(services: ClientChangeServices, clientId: string): Promise<ClientRecord> {
  return (await findClientRecord(services.clients, services.configClients, clientId))!;
}

export async function createClient(
  services: ClientChangeServices,
  body: Record<string, unknown>,
  by: ChangeActor,
): Promise<{ record: ClientRecord; secret: string | null }> {
  readOnlyProblem(body);
  const clientId = body.client_id;
  if (typeof clientId !== 'string' || !CLIENT_ID.test(clientId))
    throw new ClientChangeError('invalid_client_metadata', 'client_id must be 1 to 200 letters, digits or . _ ~ -');
  if (await findClientRecord(services.clients, services.configClients, clientId))
    throw new ClientChangeError('conflict', `client ${clientId} already exists`);
  const metadata = { client_kind: 'service', ...body, client_id: clientId } as BehalfClientMetadata;
  const secret = metadata.token_endpoint_auth_method === 'none' ? null : generateClientSecret();
  await validated(services, metadata, secret);
  await services.dataSource.transaction(async (manager) => {
    await services.clients.save(metadata, secret, manager);
    await services.audit.record(
      event('admin.client.created', clientId, by, { kind: metadata.client_kind, store: metadata.store ?? null }),
      manager,
    );
  });
  return { record: await reread(services, clientId), secret };
}

/**
 * JSON merge patch (RFC 7396: null removes a field, objects merge) over the stored metadata.
 * Becoming public drops the secrets; becoming confidential generates one (returned, shown once).
 */
export async function updateClient(
  services: ClientChangeServices,
  clientId: string,
  patch: Record<string, unknown>,
  by: ChangeActor,
): Promise<{ record: ClientRecord; secret: string | null }> {
  const record = await databaseRecord(services, clientId);
  readOnlyProblem(patch);
  if ('client_id' in patch && patch.client_id !== clientId)
    throw new ClientChangeError('invalid_client_metadata', 'client_id cannot be changed');
  const metadata: BehalfClientMetadata = { ...(mergePatch(record.metadata, patch) as BehalfClientMetadata), client_id: clientId };
  const isPublic = metadata.token_endpoint_auth_method === 'none';
  const current = isPublic ? null : ((await services.clients.findForProvider(clientId))?.client_secret ?? null);
  const generated = !isPublic && !current ? generateClientSecret() : null;
  await validated(services, metadata, current ?? generated);
  const changed = Object.keys(patch).sort();
  await services.dataSource.transaction(async (manager) => {
    if (generated) await services.clients.save(metadata, generated, manager);
    else await services.clients.updateMetadata(metadata, manager);
    if (isPublic && record.hasSecret) await services.clients.clearSecret(clientId, manager);
    await services.audit.record(event('admin.client.updated', clientId, by, { fields: changed }), manager);
  });
  return { record: await reread(services, clientId), secret: generated };
}

export async function deleteClient(services: ClientChangeServices, clientId: string, by: ChangeActor): Promise<void> {
  await databaseRecord(services, clientId);
  await services.dataSource.transaction(async (manager) => {
    await services.clients.remove(clientId, manager);
    await services.audit.record(event('admin.client.deleted', clientId, by), manager);
  });
}

/** A new secret; the old one keeps working for `graceSeconds` (0 to 7 days). */
export async function rotateClientSecret(
  services: ClientChangeServices,
  clientId: string,
  graceSeconds: number,
  by: ChangeActor,
  secret = generateClientSecret(),
): Promise<{ secret: string; previousSecretExpiresAt: Date | null }> {
  if (!Number.isInteger(graceSeconds) || graceSeconds < 0 || graceSeconds > MAX_GRACE_SECONDS)
    throw new ClientChangeError('invalid_request', `grace_seconds must be whole seconds from 0 to ${MAX_GRACE_SECONDS}`);
  const record = await databaseRecord(services, clientId);
  if (record.metadata.token_endpoint_auth_method === 'none')
    throw new ClientChangeError('invalid_request', `client ${clientId} is a public client: it has no secret`);
  // Not re-validated: a leaked secret must be replaceable even if other metadata went stale.
  const rotated = await services.dataSource.transaction(async (manager) => {
    const result = await services.clients.rotateSecret(clientId, secret, graceSeconds, manager);
    await services.audit.record(
      event('admin.client.secret_rotated', clientId, by, {
        grace_seconds: graceSeconds,
        previous_secret_expires_at: result?.previousExpiresAt?.toISOString() ?? null,
      }),
      manager,
    );
    return result;
  });
  return { secret, previousSecretExpiresAt: rotated?.previousExpiresAt ?? null };
}

function event(
  type: `admin.client.${string}`,
  clientId: string,
  by: ChangeActor,
  details: AuditEventInput['details'] = {},
): AuditEventInput {
  return { type, actor: by.actor, clientId, ip: by.ip ?? null, userAgent: by.userAgent ?? null, details: { ...by.details, ...details } };
}

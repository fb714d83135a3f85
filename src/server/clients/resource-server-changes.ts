/**
 * Administrative changes to resource servers, shared by the admin HTTP API and
 * the CLI: checked input, written with its `admin.resource_server.*` audit
 * record in one transaction.
 */
import type { DataSource } from 'typeorm';
import type { AuditService } from '../audit-trail/audit-service.js';
import type { ChangeActor } from './client-changes.js';
import { listClientRecords } from './client-records.js';
import type { ClientRepository } from './client-repository.js';
import type { ResourceServer, TokenFormat } from './resource-server.entity.js';
import { ResourceServerError, type ResourceServerRegistry } from './resource-servers.js';

export interface ResourceServerChangeServices {
  dataSource: DataSource;
  clients: ClientRepository;
  resourceServers: ResourceServerRegistry;
  audit: AuditService;
  configClients: (Record<string, unknown> & { client_id: string })[];
}

export class ResourceServerChangeError extends Error {
  override name = 'ResourceServerChangeError';
  constructor(
    readonly code: 'invalid_request' | 'not_found' | 'conflict',
    message: string,
  ) {
    super(message);
  }
}

/** The API's JSON shape (snake_case, as the rest of the admin API). */
export interface ResourceServerJson {
  identifier: string;
  name: string;
  token_format: TokenFormat;
  scopes: string[];
  access_token_ttl: number | null;
  aliases: string[];
}

export function resourceServerJson(server: ResourceServer): ResourceServerJson & { created_at: string | null; updated_at: string | null } {
  return {
    identifier: server.identifier,
    name: server.name,
    token_format: server.tokenFormat,
    scopes: server.scopes,
    access_token_ttl: server.accessTokenTtl,
    aliases: server.aliases,
    created_at: server.createdAt?.toISOString() ?? null,
    updated_at: server.updatedAt?.toISOString() ?? null,
  };
}

const FIELDS = new Set(['identifier', 'name', 'token_format', 'scopes', 'access_token_ttl', 'aliases']);

/** Checks the types of a (partial) body; values themselves are judged by the registry. */
function checkedFields(body: Record<string, unknown>): Partial<ResourceServerJson> {
  const unknown = Object.keys(body).find((key) => !FIELDS.has(key));
  if (unknown) throw new ResourceServerChangeError('invalid_request', `unknown field ${unknown}`);
  const bad = (message: string): never => {
    throw new ResourceServerChangeError('invalid_request', message);
  };
  if ('name' in body && typeof body.name !== 'string') bad('name must be a string');
  if ('token_format' in body && body.token_format !== 'jwt' && body.token_format !== 'opaque') bad('token_format must be jwt or opaque');
  for (const key of ['scopes', 'aliases'] as const) {
    if (key in body && (!Array.isArray(body[key]) || !(body[key] as unknown[]).every((item) => typeof item === 'string')))
      bad(`${key} must be an array of strings`);
  }
  const ttl = body.access_token_ttl;
  if (ttl !== undefined && ttl !== null && (!Number.isInteger(ttl) || (ttl as number) < 30 || (ttl as number) > 86_400))
    bad('access_token_ttl must be whole seconds from 30 to 86400, or null for the default');
  return body as Partial<ResourceServerJson>;
}

/** Clients that name the resource server, so deleting it does not silently break them. */
export async function resourceServerUsers(services: ResourceServerChangeServices, identifier: string): Promise<string[]> {
  const server = services.resourceServers.get(identifier);
  if (!server) return [];
  const users: string[] = [];
  for (const { metadata } of await listClientRecords(services.clients, services.configClients)) {
    const named = [
      ...((metadata.allowed_resources as string[] | undefined) ?? []),
      ...((metadata.resource_servers as string[] | undefined) ?? []),
      ...(typeof metadata.default_resource === 'string' ? [metadata.default_resource] : []),
    ];
    if (named.some((item) => services.resourceServers.get(item) === server)) users.push(metadata.client_id);
  }
  return users;
}

async function write(
  services: ResourceServerChangeServices,
  fields: ResourceServerJson,
  type: 'admin.resource_server.created' | 'admin.resource_server.updated',
  by: ChangeActor,
): Promise<ResourceServer> {
  try {
    await services.dataSource.transaction(async (manager) => {
      const server = await services.resourceServers.upsert(
        {
          identifier: fields.identifier,
          name: fields.name,
          tokenFormat: fields.token_format,
          scopes: fields.scopes,
          accessTokenTtl: fields.access_token_ttl,
          aliases: fields.aliases,
        },
        manager,
      );
      await services.audit.record(
        {
          type,
          actor: by.actor,
          ip: by.ip ?? null,
          userAgent: by.userAgent ?? null,
          details: {
            ...by.details,
            identifier: server.identifier,
            format: server.tokenFormat,
            scopes: server.scopes,
            aliases: server.aliases,
          },
        },
        manager,
      );
    });
  } catch (error) {
    if (error instanceof ResourceServerError) throw new ResourceServerChangeError('invalid_request', error.message);
    throw error;
  }
  await services.resourceServers.refresh();
  return services.resourceServers.get(fields.identifier)!;
}

export async function createResourceServer(
  services: ResourceServerChangeServices,
  body: Record<string, unknown>,
  by: ChangeActor,
): Promise<ResourceServer> {
  const fields = checkedFields(body);
  if (typeof fields.identifier !== 'string') throw new ResourceServerChangeError('invalid_request', 'identifier must be a resource URI');
  if (typeof fields.name !== 'string') throw new ResourceServerChangeError('invalid_request', 'name is required');
  await services.resourceServers.refresh();
  if (services.resourceServers.get(fields.identifier))
    throw new ResourceServerChangeError('conflict', `resource server ${fields.identifier} already exists`);
  return write(
    services,
    {
      identifier: fields.identifier,
      name: fields.name,
      token_format: fields.token_format ?? 'jwt',
      scopes: fields.scopes ?? [],
      access_token_ttl: fields.access_token_ttl ?? null,
      aliases: fields.aliases ?? [],
    },
    'admin.resource_server.created',
    by,
  );
}

/** Changes the fields given; the identifier stays. */
export async function updateResourceServer(
  services: ResourceServerChangeServices,
  identifier: string,
  body: Record<string, unknown>,
  by: ChangeActor,
): Promise<ResourceServer> {
  const fields = checkedFields(body);
  await services.resourceServers.refresh();
  const server = services.resourceServers.get(identifier);
  if (!server) throw new ResourceServerChangeError('not_found', `no resource server ${identifier}`);
  if (fields.identifier !== undefined && services.resourceServers.get(fields.identifier) !== server)
    throw new ResourceServerChangeError('invalid_request', 'identifier cannot be changed');
  if (body.name === null) throw new ResourceServerChangeError('invalid_request', 'name cannot be removed');
  return write(
    services,
    {
      identifier: server.identifier,
      name: fields.name ?? server.name,
      token_format: fields.token_format ?? server.tokenFormat,
      scopes: fields.scopes ?? server.scopes,
      access_token_ttl: 'access_token_ttl' in fields ? (fields.access_token_ttl ?? null) : server.accessTokenTtl,
      aliases: fields.aliases ?? server.aliases,
    },
    'admin.resource_server.updated',
    by,
  );
}

/** Refused while clients name it, unless `force`. */
export async function deleteResourceServer(
  services: ResourceServerChangeServices,
  identifier: string,
  force: boolean,
  by: ChangeActor,
): Promise<void> {
  await services.resourceServers.refresh();
  const server = services.resourceServers.get(identifier);
  if (!server) throw new ResourceServerChangeError('not_found', `no resource server ${identifier}`);
  const users = await resourceServerUsers(services, server.identifier);
  if (users.length && !force)
    throw new ResourceServerChangeError('conflict', `resource server ${server.identifier} is used by client(s) ${users.join(', ')}`);
  await services.dataSource.transaction(async (manager) => {
    await services.resourceServers.remove(server.identifier, manager);
    await services.audit.record(
      {
        type: 'admin.resource_server.deleted',
        actor: by.actor,
        ip: by.ip ?? null,
        userAgent: by.userAgent ?? null,
        details: { ...by.details, identifier: server.identifier, forced: users.length > 0 },
      },
      manager,
    );
  });
  await services.resourceServers.refresh();
}

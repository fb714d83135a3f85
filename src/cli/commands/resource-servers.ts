/** `resource-servers …`: the APIs Behalf issues access tokens for (RFC 8707 resource indicators). */
import { Option, type Command } from 'commander';
import type { ResourceServer, TokenFormat } from '../../server/clients/resource-server.entity.js';
import type { Services } from '../../server/system.js';
import { listClients } from '../client-metadata.js';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';
import { examples, table, when } from '../output.js';
import { httpUrl, integerIn } from '../parse.js';

function asJson(server: ResourceServer): Record<string, unknown> {
  return {
    identifier: server.identifier,
    name: server.name,
    token_format: server.tokenFormat,
    scopes: server.scopes,
    access_token_ttl: server.accessTokenTtl,
    aliases: server.aliases,
    created_at: server.createdAt,
    updated_at: server.updatedAt,
  };
}

/** Clients that name the resource server, so deleting it does not silently break them. */
async function usedBy(services: Services, identifier: string): Promise<string[]> {
  const server = services.resourceServers.get(identifier);
  if (!server) return [];
  const users: string[] = [];
  for (const { metadata } of await listClients(services)) {
    const named = [
      ...((metadata.allowed_resources as string[] | undefined) ?? []),
      ...((metadata.resource_servers as string[] | undefined) ?? []),
    ];
    if (named.some((item) => services.resourceServers.get(item) === server)) users.push(metadata.client_id);
  }
  return users;
}

export function registerResourceServers(program: Command, cli: CliContext): void {
  const group = program.command('resource-servers').description('APIs that accept Behalf access tokens');
  examples(
    group,
    'resource-servers list',
    'resource-servers create https://orders.example.com --name "Orders API" --scope orders:read orders:write',
  );

  const create = group
    .command('create')
    .description('register a resource server, or update the one with this identifier')
    .argument('<identifier>', 'its resource indicator (an absolute URL)', httpUrl)
    .requiredOption('--name <name>', 'display name')
    .addOption(new Option('--format <format>', 'access token format').choices(['jwt', 'opaque']).default('jwt'))
    .option('--scope <scope...>', 'the scopes it defines (repeatable)')
    .option('--ttl <seconds>', 'access token lifetime, 30-86400 (default: tokens.resourceAccessTokenTtl)', integerIn(30, 86_400))
    .option('--alias <name...>', 'logical names for RFC 8693 audience (repeatable; a client id may be one)')
    .action(
      async (identifier: string, options: { name: string; format: TokenFormat; scope?: string[]; ttl?: number; alias?: string[] }) => {
        const { server, existed } = await cli.withServices(async (services) => {
          await services.resourceServers.refresh();
          const existed = !!services.resourceServers.get(identifier);
          const server = await services.resourceServers.upsert({
            identifier,
            name: options.name,
            tokenFormat: options.format,
            scopes: options.scope ?? [],
            accessTokenTtl: options.ttl ?? null,
            aliases: options.alias ?? [],
          });
          await cli.recordAdmin(services, {
            type: existed ? 'admin.resource_server.updated' : 'admin.resource_server.created',
            details: { identifier: server.identifier, format: server.tokenFormat, scopes: server.scopes, aliases: server.aliases },
          });
          return { server, existed };
        });
        cli.out(
          `resource server ${server.identifier} ${existed ? 'updated' : 'created'} (${server.tokenFormat} tokens, scopes: ${server.scopes.join(' ') || '-'})`,
        );
      },
    );
  examples(
    create,
    'resource-servers create https://orders.example.com --name "Orders API" --scope orders:read orders:write',
    'resource-servers create https://ledger.example.com --name Ledger --format opaque --ttl 300',
    'resource-servers create https://shipping.example.com --name Shipping --alias shipping --alias shipping-worker   # audience=shipping',
  );

  const update = group
    .command('update')
    .description('change a resource server: only the options given change')
    .argument('<identifier>')
    .option('--name <name>', 'display name')
    .addOption(new Option('--format <format>', 'access token format').choices(['jwt', 'opaque']))
    .option('--scope <scope...>', 'the scopes it defines, replacing the list')
    .option('--ttl <seconds>', 'access token lifetime, 30-86400', integerIn(30, 86_400))
    .option('--default-ttl', 'use the default access token lifetime (tokens.resourceAccessTokenTtl)')
    .option('--alias <name...>', 'logical names for RFC 8693 audience, replacing the list (a client id may be one)')
    .option('--no-alias', 'remove every alias')
    .action(
      async (
        identifier: string,
        options: { name?: string; format?: TokenFormat; scope?: string[]; ttl?: number; defaultTtl?: boolean; alias?: string[] | false },
      ) => {
        if (options.ttl !== undefined && options.defaultTtl) throw new CliError('--ttl and --default-ttl cannot be combined');
        const body: Record<string, unknown> = {
          ...(options.name !== undefined ? { name: options.name } : {}),
          ...(options.format ? { token_format: options.format } : {}),
          ...(options.scope ? { scopes: options.scope } : {}),
          ...(options.ttl !== undefined ? { access_token_ttl: options.ttl } : options.defaultTtl ? { access_token_ttl: null } : {}),
          ...(options.alias !== undefined ? { aliases: options.alias || [] } : {}),
        };
        if (!Object.keys(body).length)
          throw new CliError('nothing to change: name at least one option (see resource-servers update --help)');
        const { updateResourceServer } = await import('../../server/clients/resource-server-changes.js');
        const server = await cli.withServices((services) =>
          updateResourceServer({ ...services, configClients: services.config.clients }, identifier, body, { actor: cli.actor() }),
        );
        cli.out(`resource server ${server.identifier} updated (aliases: ${server.aliases.join(' ') || '-'})`);
      },
    );
  examples(
    update,
    'resource-servers update http://localhost:4003 --alias orders --alias orders-api   # the orders API also answers to its client id',
    'resource-servers update https://ledger.example.com --no-alias --default-ttl',
  );

  const list = group
    .command('list')
    .description('list resource servers')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const servers = await cli.withServices(async (services) => {
        await services.resourceServers.refresh();
        return services.resourceServers.all().sort((a, b) => a.identifier.localeCompare(b.identifier));
      });
      if (options.json) return cli.json(servers.map(asJson));
      cli.out(
        ...table(
          ['IDENTIFIER', 'FORMAT', 'TTL', 'SCOPES', 'ALIASES', 'CREATED', 'NAME'],
          servers.map((server) => [
            server.identifier,
            server.tokenFormat,
            server.accessTokenTtl ?? 'default',
            server.scopes.join(' '),
            server.aliases.join(' ') || '-',
            when(server.createdAt),
            server.name,
          ]),
        ),
      );
    });
  examples(list, 'resource-servers list', 'resource-servers list --json');

  const remove = group
    .command('delete')
    .description('delete a resource server (refused while clients name it, unless --force)')
    .argument('<identifier>')
    .option('--force', 'delete even if clients still name it (their requests for it then fail)')
    .action(async (identifier: string, options: { force?: boolean }) => {
      await cli.withServices(async (services) => {
        await services.resourceServers.refresh();
        if (!services.resourceServers.get(identifier)) throw new CliError(`no resource server ${identifier}`);
        const users = await usedBy(services, identifier);
        if (users.length && !options.force)
          throw new CliError(`resource server ${identifier} is used by client(s) ${users.join(', ')}; change them first or pass --force`);
        await services.resourceServers.remove(identifier);
        await cli.recordAdmin(services, { type: 'admin.resource_server.deleted', details: { identifier, forced: users.length > 0 } });
      });
      cli.out(`resource server ${identifier} deleted`);
    });
  examples(remove, 'resource-servers delete https://ledger.example.com');
}

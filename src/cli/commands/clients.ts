/** `clients …`: register, inspect, delete OAuth clients and rotate their secrets. */
// Server code is imported inside each action, so help stays fast (see index.ts).
import { Option, type Command } from 'commander';
import {
  buildClientMetadata,
  checkOperatedResources,
  checkSecret,
  findClient,
  findDatabaseClient,
  listClients,
  type ClientCreateOptions,
  type ClientRecord,
} from '../client-metadata.js';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';
import { examples, fields, shownOnce, table, when } from '../output.js';
import { storeSlug } from '../parse.js';
import { PKCE_OPTIONAL } from '../../server/oidc/pkce-policy.js';

function list(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

function summary(record: ClientRecord): (string | null)[] {
  const { metadata } = record;
  return [
    metadata.client_id,
    metadata.client_kind ?? 'service',
    metadata.store ?? null,
    metadata.token_endpoint_auth_method === 'none' ? 'public' : 'confidential',
    list(metadata.grant_types).join(',') || null,
    record.source,
    metadata.client_name ?? null,
  ];
}

function details(record: ClientRecord): string[] {
  const { metadata } = record;
  const known = new Set([
    'client_id',
    'client_name',
    'client_kind',
    'store',
    'first_party',
    'token_endpoint_auth_method',
    'redirect_uris',
    'post_logout_redirect_uris',
    'grant_types',
    'response_types',
    'scope',
    'allowed_resources',
    'default_resource',
    'resource_servers',
    PKCE_OPTIONAL,
  ]);
  const extra = Object.entries(metadata).filter(([key]) => !known.has(key));
  return fields([
    ['client_id', metadata.client_id],
    ['name', metadata.client_name ?? null],
    ['kind', metadata.client_kind ?? 'service'],
    ['store', metadata.store ?? null],
    ['first party', metadata.first_party === true],
    ['authentication', String(metadata.token_endpoint_auth_method ?? 'client_secret_basic')],
    ['PKCE', metadata[PKCE_OPTIONAL] === true ? 'optional (legacy opt-out)' : 'required (S256)'],
    // Only whether a secret exists: the secret itself is shown once, at creation or rotation.
    ['secret', record.hasSecret ? 'set (not shown)' : 'none'],
    ['redirect URIs', list(metadata.redirect_uris)],
    ['post-logout URIs', list(metadata.post_logout_redirect_uris)],
    ['grant types', list(metadata.grant_types)],
    ['response types', list(metadata.response_types)],
    ['scope', (metadata.scope as string | undefined) ?? null],
    ['resources', list(metadata.allowed_resources)],
    ['default resource', (metadata.default_resource as string | undefined) ?? null],
    ['operates', list(metadata.resource_servers)],
    ...extra.map(([key, value]): [string, string] => [key, JSON.stringify(value)]),
    ['source', record.source],
    ['created', when(record.createdAt)],
    ['updated', when(record.updatedAt)],
  ]);
}

function asJson(record: ClientRecord): Record<string, unknown> {
  return {
    ...record.metadata,
    has_secret: record.hasSecret,
    source: record.source,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
  };
}

export function registerClients(program: Command, cli: CliContext): void {
  const clients = program.command('clients').description('OAuth clients: storefronts, back-office apps, services');
  examples(
    clients,
    'clients list',
    'clients create shop-web --store electronics --redirect-uri https://shop.example.com/callback',
    'clients show portal',
  );

  const create = clients
    .command('create')
    .description('register a client; a generated secret is printed once')
    .argument('<client_id>', 'the client identifier')
    .option('--name <name>', 'display name (client_name)')
    .addOption(
      new Option('--kind <kind>', 'who signs in through it (default: storefront with --store, else service)').choices([
        'storefront',
        'backoffice',
        'service',
      ]),
    )
    .option('--store <slug>', 'the store a storefront client serves; its customers sign in through it', storeSlug)
    .option('--redirect-uri <uri...>', 'allowed redirect URIs (repeatable)')
    .option('--post-logout-redirect-uri <uri...>', 'allowed post-logout redirect URIs (repeatable)')
    .option('--grant-type <type...>', 'grant types (default: client_credentials for services, else authorization_code refresh_token)')
    .option('--scope <scopes>', 'space-separated OIDC scopes it may request, e.g. "openid profile email"')
    .option('--resource <identifier...>', 'resource servers it may request tokens for (allowed_resources)')
    .option(
      '--default-resource <uri>',
      'the resource a client_credentials or delegation request without resource/audience gets (one of --resource)',
    )
    .option('--operates <identifier...>', 'resource servers this client operates (may introspect their tokens)')
    .option('--first-party', 'skip the consent screen')
    .addOption(new Option('--public', 'public client: token_endpoint_auth_method none, no secret').conflicts('secret'))
    .addOption(
      new Option(
        '--pkce-optional',
        `legacy confidential client that cannot send PKCE (${PKCE_OPTIONAL}); every other client must use PKCE S256`,
      ).conflicts('public'),
    )
    .option('--dpop-bound-access-tokens', 'every token request must carry a DPoP proof; its tokens are bound to the key (RFC 9449 §5.2)')
    .option('--require-dpop-on-behalf', 'storefront: login-on-behalf exchanges must carry a DPoP proof (on-behalf tokens bound to its key)')
    .option('--require-par', 'every authorization request must be pushed (RFC 9126 require_pushed_authorization_requests)')
    .option('--require-par-on-behalf', 'storefront: login-on-behalf authorization requests must be pushed (on_behalf_of never in a URL)')
    .option('--secret <secret>', `use this secret instead of a generated one (at least 16 characters)`)
    .option('--json', 'print the result (including a generated secret) as JSON')
    .action(async (clientId: string, options: ClientCreateOptions & { json?: boolean }) => {
      const [{ generateClientSecret }, { registerClient }] = await Promise.all([
        import('../../server/clients/client-repository.js'),
        import('../../server/clients/register.js'),
      ]);
      if (options.secret !== undefined) checkSecret(options.secret);
      const metadata = buildClientMetadata(clientId, options);
      const secret = options.public ? null : (options.secret ?? generateClientSecret());
      await cli.withServices(async (services) => {
        const existing = (await listClients(services)).find((record) => record.metadata.client_id === clientId);
        if (existing)
          throw new CliError(
            `client ${clientId} already exists${existing.source === 'config' ? ' in the configuration' : ''}; delete it first or rotate its secret`,
          );
        await checkOperatedResources(services, metadata);
        await registerClient(services, metadata, secret);
        await cli.recordAdmin(services, {
          type: 'admin.client.created',
          clientId,
          details: {
            kind: metadata.client_kind,
            store: metadata.store ?? null,
            grant_types: (metadata.grant_types as string[] | undefined) ?? [],
          },
        });
      });
      const generated = !options.public && options.secret === undefined ? secret : null;
      if (options.json) return cli.json({ ...metadata, ...(generated ? { client_secret: generated } : {}) });
      cli.out(
        `client ${clientId} created (${metadata.client_kind}${metadata.store ? `, store ${metadata.store}` : ''}, ${options.public ? 'public' : 'confidential'})`,
      );
      if (generated) cli.out(...shownOnce('client_secret', generated));
    });
  examples(
    create,
    'clients create shop-web --name "Electronics shop" --store electronics --first-party \\\n      --redirect-uri https://shop.example.com/callback --post-logout-redirect-uri https://shop.example.com/ \\\n      --scope "openid profile email offline_access" --resource http://localhost:4003   # the demo orders API',
    'clients create portal2 --kind backoffice --redirect-uri https://portal.example.com/callback --scope "openid profile email"',
    'clients create billing-job --resource http://localhost:4003 --default-resource http://localhost:4003   # client credentials',
    'clients create orders-worker --operates http://localhost:4003   # an API that introspects its tokens',
    'clients create books-spa --store books --public --redirect-uri https://books.example.com/callback   # browser app, PKCE, no secret',
  );

  const listCommand = clients
    .command('list')
    .description('list clients (database and configuration); secrets are never shown')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const records = await cli.withServices((services) => listClients(services));
      if (options.json) return cli.json(records.map(asJson));
      cli.out(...table(['CLIENT ID', 'KIND', 'STORE', 'AUTH', 'GRANT TYPES', 'SOURCE', 'NAME'], records.map(summary)));
    });
  examples(listCommand, 'clients list', 'clients list --json');

  const show = clients
    .command('show')
    .description("show a client's metadata (never its secret)")
    .argument('<client_id>')
    .option('--json', 'print JSON')
    .action(async (clientId: string, options: { json?: boolean }) => {
      const record = await cli.withServices((services) => findClient(services, clientId));
      if (options.json) return cli.json(asJson(record));
      cli.out(...details(record));
    });
  examples(show, 'clients show storefront-electronics', 'clients show portal --json');

  const remove = clients
    .command('delete')
    .description('delete a client: it can no longer authenticate or use its tokens')
    .argument('<client_id>')
    .action(async (clientId: string) => {
      await cli.withServices(async (services) => {
        await findDatabaseClient(services, clientId);
        await services.clients.remove(clientId);
        await cli.recordAdmin(services, { type: 'admin.client.deleted', clientId });
      });
      cli.out(`client ${clientId} deleted`);
    });
  examples(remove, 'clients delete shop-web');

  const rotate = clients
    .command('rotate-secret')
    .description("replace a confidential client's secret (metadata unchanged); the new secret is printed once")
    .argument('<client_id>')
    .option('--secret <secret>', 'use this secret instead of a generated one (at least 16 characters)')
    .option('--json', 'print the result (including a generated secret) as JSON')
    .action(async (clientId: string, options: { secret?: string; json?: boolean }) => {
      const { generateClientSecret } = await import('../../server/clients/client-repository.js');
      if (options.secret !== undefined) checkSecret(options.secret);
      const secret = options.secret ?? generateClientSecret();
      await cli.withServices(async (services) => {
        const record = await findDatabaseClient(services, clientId);
        if (record.metadata.token_endpoint_auth_method === 'none')
          throw new CliError(`client ${clientId} is a public client: it has no secret`);
        // Saved as is, not re-validated: a leaked secret must be replaceable even if other metadata went stale.
        await services.clients.save(record.metadata, secret);
        await cli.recordAdmin(services, { type: 'admin.client.secret_rotated', clientId });
      });
      const generated = options.secret === undefined ? secret : null;
      if (options.json) return cli.json({ client_id: clientId, ...(generated ? { client_secret: generated } : {}) });
      cli.out(`client ${clientId}: secret replaced; the old one stops working now`);
      if (generated) cli.out(...shownOnce('client_secret', generated));
    });
  examples(rotate, 'clients rotate-secret portal', 'clients rotate-secret integrator-demo --json');
}

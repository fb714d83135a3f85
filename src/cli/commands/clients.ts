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
import { duration, integerIn, storeSlug } from '../parse.js';
import { clientPatch, type ClientUpdateOptions } from '../client-update.js';
import type { ClientChangeServices } from '../../server/clients/client-changes.js';
import type { Services } from '../../server/system.js';
import { PKCE_OPTIONAL } from '../../server/oidc/pkce-policy.js';

/** clients/client-changes.ts's bound, repeated so help does not load server code. */
const MAX_GRACE_SECONDS = 604_800;

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

/** The admin API's JSON for a client (clients/client-records.ts), without importing server code at start-up. */
function asJson(record: ClientRecord): Record<string, unknown> {
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
    .option(
      '--delegation <from=to...>',
      'delegation rules: a token for <from> (a resource it operates) may be exchanged for one for <to> (adds the token-exchange grant)',
    )
    .option('--first-party', 'skip the consent screen')
    .addOption(new Option('--public', 'public client: token_endpoint_auth_method none, no secret').conflicts('secret'))
    .addOption(
      new Option(
        '--pkce-optional',
        `legacy confidential client that cannot send PKCE (${PKCE_OPTIONAL}); every other client must use PKCE S256`,
      ).conflicts('public'),
    )
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
    'clients create payments-worker --operates payments --resource http://localhost:4003 --delegation payments=http://localhost:4003',
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
    .option(
      '--grace <duration>',
      'keep accepting the old secret this long (e.g. 24h, 7d; at most 7d) so deployments can switch over; default 0: it stops now',
      duration(0, MAX_GRACE_SECONDS),
    )
    .option('--json', 'print the result (including a generated secret) as JSON')
    .action(async (clientId: string, options: { secret?: string; grace?: number; json?: boolean }) => {
      const { generateClientSecret } = await import('../../server/clients/client-repository.js');
      const { rotateClientSecret } = await import('../../server/clients/client-changes.js');
      if (options.secret !== undefined) checkSecret(options.secret);
      const secret = options.secret ?? generateClientSecret();
      const grace = options.grace ?? 0;
      const rotated = await cli.withServices((services) =>
        rotateClientSecret(changeServices(services), clientId, grace, { actor: cli.actor() }, secret),
      );
      const generated = options.secret === undefined ? secret : null;
      const until = rotated.previousSecretExpiresAt?.toISOString() ?? null;
      if (options.json)
        return cli.json({ client_id: clientId, ...(generated ? { client_secret: generated } : {}), previous_secret_expires_at: until });
      cli.out(
        `client ${clientId}: secret replaced; ${until ? `the old one keeps working until ${until}` : 'the old one stops working now'}`,
      );
      if (generated) cli.out(...shownOnce('client_secret', generated));
    });
  examples(
    rotate,
    'clients rotate-secret portal',
    'clients rotate-secret integrator-demo --grace 24h',
    'clients rotate-secret integrator-demo --json',
  );

  registerClientUpdate(clients, cli);
  registerInitialAccessTokens(clients, cli);
}

/** What the shared change functions need, from the CLI's services. */
function changeServices(services: Services): ClientChangeServices {
  return { ...services, configClients: services.config.clients };
}

function registerClientUpdate(clients: Command, cli: CliContext): void {
  const update = clients
    .command('update')
    .description("change a client's policies; only the options given change (the secret stays: see rotate-secret)")
    .argument('<client_id>')
    .option('--name <name>', 'display name (client_name)')
    .option('--grant-type <type...>', 'grant types, replacing the list (response types follow)')
    .option('--redirect-uri <uri...>', 'redirect URIs, replacing the list')
    .option('--post-logout-redirect-uri <uri...>', 'post-logout redirect URIs, replacing the list')
    .option('--scope <scopes>', 'space-separated OIDC scopes it may request ("" removes)')
    .option('--resource <identifier...>', 'resource servers it may request tokens for (allowed_resources), replacing the list')
    .option('--default-resource <uri>', 'the resource a request naming none gets (one of its resources)')
    .option('--no-default-resource', 'remove the default resource')
    .addOption(
      new Option('--auth-method <method>', 'token endpoint authentication (none: a public client, its secret removed)').choices([
        'client_secret_basic',
        'client_secret_post',
        'none',
      ]),
    )
    .option('--on-behalf <json>', 'login-on-behalf policy as JSON: {"resource","scope","token_ttl"} (storefront clients)')
    .option('--on-behalf-resource <uri>', 'default resource of on-behalf tokens')
    .option('--on-behalf-scope <scopes>', 'the most an on-behalf token may carry, space-separated')
    .option('--on-behalf-ttl <seconds>', 'on-behalf token lifetime, 30-900', integerIn(30, 900))
    .option('--no-on-behalf', 'remove the login-on-behalf policy')
    .option('--delegation <rule...>', 'delegation rules "<from>=<to>[ <scope>...]", replacing the list (repeatable)')
    .option('--no-delegation', 'remove every delegation rule')
    .option('--may-act <client_id>', 'the client named in may_act of tokens issued to this one')
    .option('--no-may-act', 'remove may_act')
    .option('--operates <identifier...>', 'resource servers this client operates (may introspect their tokens), replacing the list')
    .option('--first-party', 'skip the consent screen')
    .option('--no-first-party', 'show the consent screen')
    .option('--json', 'print the client as JSON')
    .action(async (clientId: string, options: ClientUpdateOptions & { json?: boolean }) => {
      const { json, ...changes } = options;
      const patch = clientPatch(changes);
      const { updateClient } = await import('../../server/clients/client-changes.js');
      const { record, secret } = await cli.withServices((services) =>
        updateClient(changeServices(services), clientId, patch, { actor: cli.actor() }),
      );
      if (json) return cli.json({ ...asJson(record), ...(secret ? { client_secret: secret } : {}) });
      cli.out(`client ${clientId} updated (${Object.keys(patch).sort().join(', ')})`);
      if (secret) cli.out(...shownOnce('client_secret', secret));
    });
  examples(
    update,
    'clients update integrator-demo --resource http://localhost:4003 urn:behalf:demo:payments --default-resource http://localhost:4003',
    'clients update orders-api --delegation "http://localhost:4003=urn:behalf:demo:payments orders:read" --may-act orders-api',
    'clients update storefront-books --on-behalf-scope orders:read --on-behalf-ttl 300   # a read-only on-behalf profile',
    'clients update billing-job --auth-method client_secret_post --no-may-act --no-delegation',
  );
}

function registerInitialAccessTokens(clients: Command, cli: CliContext): void {
  const group = clients
    .command('initial-access-token')
    .description('initial access tokens: what an integrator needs to register a client itself (RFC 7591)');
  examples(group, 'clients initial-access-token create --resource http://localhost:4003 --ttl 7d');
  const create = group
    .command('create')
    .description('issue one; it is printed once. The clients registered with it may ask tokens only for these resources')
    .requiredOption('--resource <identifier...>', 'resource servers (identifiers or aliases) the registered clients may use')
    .option(
      '--ttl <duration>',
      'how long it can be used to register, e.g. 7d (default), 24h; at most 90d',
      duration(60, 90 * 86_400),
      7 * 86_400,
    )
    .option('--json', 'print the result as JSON')
    .action(async (options: { resource: string[]; ttl: number; json?: boolean }) => {
      const { allowedResources, issueInitialAccessToken } = await import('../../server/oidc/initial-access-token.js');
      const issued = await cli.withServices(async (services) => {
        const resources = await allowedResources(services.resourceServers, options.resource);
        const result = await issueInitialAccessToken(services.dataSource, { resources, ttlSeconds: options.ttl, createdBy: cli.actor() });
        await cli.recordAdmin(services, {
          type: 'admin.initial_access_token.created',
          details: { allowed_resources: resources, expires_at: result.expiresAt.toISOString() },
        });
        return { ...result, resources };
      });
      if (options.json)
        return cli.json({
          initial_access_token: issued.token,
          expires_at: issued.expiresAt.toISOString(),
          allowed_resources: issued.resources,
        });
      cli.out(`initial access token for ${issued.resources.join(', ')}, valid until ${issued.expiresAt.toISOString()}`);
      cli.out(...shownOnce('initial_access_token', issued.token));
    });
  examples(
    create,
    'clients initial-access-token create --resource http://localhost:4003 --ttl 7d',
    'clients initial-access-token create --resource orders payments --ttl 24h --json',
  );
}

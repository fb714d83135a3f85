/**
 * The CLI sets every client policy without SQL: `clients update` (a merge patch validated like a
 * registration), `rotate-secret --grace`, `initial-access-token create`, and resource-server
 * aliases. Changes are checked through the services and a running Behalf, and in the audit trail.
 */
import { loadConfig } from '../../config/load.js';
import { runCli } from '../../src/cli/index.js';
import { ORDERS_API, PAYMENTS_AUDIENCE } from '../../src/server/seed/demo-data.js';
import { createServices, type Services } from '../../src/server/system.js';
import { startBehalf, type RunningBehalf } from '../support/behalf.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { readJson, tokenRequest } from '../support/oauth.js';

let db: TestDatabase;
let services: Services;

beforeAll(async () => {
  db = await createTestDatabase();
  services = await createServices(loadConfig({ env: { NODE_ENV: 'test', DATABASE_URL: db.url } }));
});
afterAll(async () => {
  await services?.database.close();
  await db?.drop();
});

async function cli(...argv: string[]) {
  const result = { code: 0, stdout: '', stderr: '' };
  const io = { stdout: { write: (text: string) => (result.stdout += text) }, stderr: { write: (text: string) => (result.stderr += text) } };
  result.code = await runCli(argv, io, { env: { NODE_ENV: 'test', DATABASE_URL: db.url } });
  return result;
}

async function metadata(clientId: string): Promise<Record<string, unknown>> {
  return (await services.clients.find(clientId))!.metadata;
}

describe('clients update', () => {
  beforeAll(async () => {
    expect((await cli('clients', 'create', 'cli-job', '--resource', ORDERS_API)).code).toBe(0);
  });

  it('sets each policy, only what is named, audited', async () => {
    const result = await cli(
      'clients',
      'update',
      'cli-job',
      '--name',
      'CLI job',
      '--grant-type',
      'client_credentials',
      'urn:ietf:params:oauth:grant-type:token-exchange',
      '--resource',
      ORDERS_API,
      PAYMENTS_AUDIENCE,
      '--default-resource',
      ORDERS_API,
      '--delegation',
      `${ORDERS_API}=payments orders:read`,
      '--may-act',
      'orders-api',
      '--auth-method',
      'client_secret_post',
    );
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(await metadata('cli-job')).toMatchObject({
      client_name: 'CLI job',
      grant_types: ['client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange'],
      allowed_resources: [ORDERS_API, PAYMENTS_AUDIENCE],
      default_resource: ORDERS_API,
      delegation: [{ from: ORDERS_API, to: 'payments', scope: 'orders:read' }],
      may_act: 'orders-api',
      token_endpoint_auth_method: 'client_secret_post',
      client_kind: 'service',
    });
    const [event] = (await services.audit.events.query({ type: 'admin.client.updated', limit: 10 })).events;
    expect(event).toMatchObject({ clientId: 'cli-job', actor: expect.stringMatching(/^cli:/) });

    expect((await cli('clients', 'update', 'cli-job', '--no-may-act', '--no-delegation', '--no-default-resource')).code).toBe(0);
    const after = await metadata('cli-job');
    expect(after).not.toHaveProperty('may_act');
    expect(after).not.toHaveProperty('delegation');
    expect(after).not.toHaveProperty('default_resource');
    expect(after.client_name).toBe('CLI job');
  });

  it('sets and removes a login-on-behalf policy on a storefront client', async () => {
    expect((await cli('clients', 'update', 'storefront-books', '--on-behalf-scope', 'orders:read', '--on-behalf-ttl', '300')).code).toBe(0);
    expect((await metadata('storefront-books')).on_behalf).toEqual({ resource: ORDERS_API, scope: 'orders:read', token_ttl: 300 });
  });

  it('refuses what registration refuses, in one line, changing nothing', async () => {
    const before = await metadata('cli-job');
    for (const [args, message] of [
      [['--default-resource', 'https://elsewhere.example.com'], /default_resource/],
      [['--resource', 'https://unknown.example.com'], /unknown resource server/],
      [['--delegation', 'nonsense'], /expected <from>=<to>/],
      [[], /nothing to change/],
    ] as const) {
      const result = await cli('clients', 'update', 'cli-job', ...args);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(message);
    }
    expect((await cli('clients', 'update', 'nobody', '--name', 'x')).stderr).toMatch(/no client nobody/);
    expect(await metadata('cli-job')).toEqual(before);
  });
});

describe('with a running Behalf', () => {
  let running: RunningBehalf;
  beforeAll(async () => {
    running = await startBehalf({ database: db });
  });
  afterAll(async () => {
    await running?.stop();
  });

  it('rotate-secret --grace keeps the old secret working for the grace period', async () => {
    const created = await cli('clients', 'create', 'cli-grace', '--resource', ORDERS_API, '--default-resource', ORDERS_API, '--json');
    const oldSecret = (JSON.parse(created.stdout) as { client_secret: string }).client_secret;
    const rotated = await cli('clients', 'rotate-secret', 'cli-grace', '--grace', '2s', '--json');
    expect(rotated.code).toBe(0);
    const body = JSON.parse(rotated.stdout) as { client_secret: string; previous_secret_expires_at: string };
    expect(Date.parse(body.previous_secret_expires_at)).toBeGreaterThan(Date.now());
    const token = (secret: string) => tokenRequest(running.issuer, 'cli-grace', secret, { grant_type: 'client_credentials' });
    expect((await token(oldSecret)).status).toBe(200);
    expect((await token(body.client_secret)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    expect((await token(oldSecret)).status).toBe(401);
    expect((await token(body.client_secret)).status).toBe(200);
    expect((await cli('clients', 'rotate-secret', 'cli-grace', '--grace', '8d')).stderr).toMatch(/duration/);
  });

  it('initial-access-token create prints a token an integrator registers with', async () => {
    const issued = await cli('clients', 'initial-access-token', 'create', '--resource', 'orders', '--ttl', '1h', '--json');
    expect(issued).toMatchObject({ code: 0, stderr: '' });
    const { initial_access_token: iat, allowed_resources } = JSON.parse(issued.stdout) as {
      initial_access_token: string;
      allowed_resources: string[];
    };
    expect(allowed_resources).toEqual([ORDERS_API]);
    const registered = await readJson(
      await fetch(`${running.issuer}/reg`, {
        method: 'POST',
        headers: { authorization: `Bearer ${iat}`, 'content-type': 'application/json' },
        body: JSON.stringify({ client_name: 'from the CLI token' }),
      }),
    );
    expect(registered.status).toBe(201);
    expect(registered.body.default_resource).toBe(ORDERS_API);
    expect((await cli('clients', 'initial-access-token', 'create', '--resource', 'https://nope.example.com')).stderr).toMatch(
      /unknown resource server/,
    );
  });
});

describe('resource-servers aliases', () => {
  it('create and update take several aliases, unique across servers, shown in list', async () => {
    expect(
      (
        await cli(
          'resource-servers',
          'create',
          'https://shipping.example.com',
          '--name',
          'Shipping',
          '--alias',
          'shipping',
          '--alias',
          'cli-job',
        )
      ).code,
    ).toBe(0);
    await services.resourceServers.refresh();
    expect(services.resourceServers.find('cli-job')?.identifier).toBe('https://shipping.example.com');
    const clash = await cli('resource-servers', 'update', ORDERS_API, '--alias', 'shipping');
    expect(clash.code).toBe(1);
    expect(clash.stderr).toMatch(/already an alias of resource server https:\/\/shipping.example.com/);
    expect((await cli('resource-servers', 'update', 'https://shipping.example.com', '--alias', 'ship')).code).toBe(0);
    const listed = JSON.parse((await cli('resource-servers', 'list', '--json')).stdout) as { identifier: string; aliases: string[] }[];
    expect(listed.find((server) => server.identifier === 'https://shipping.example.com')!.aliases).toEqual(['ship']);
    expect(listed.find((server) => server.identifier === ORDERS_API)!.aliases).toEqual(['orders']);
    expect((await cli('resource-servers', 'update', 'https://shipping.example.com', '--no-alias')).code).toBe(0);
    const events = (await services.audit.events.query({ type: 'admin.resource_server.updated', limit: 10 })).events;
    expect(events[0]!.details).toMatchObject({ identifier: 'https://shipping.example.com', aliases: [] });
  });
});

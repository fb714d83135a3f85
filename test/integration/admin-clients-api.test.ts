/**
 * The admin API over clients and resource servers: admin role only, JSON in and out, validated
 * like a registration, every change audited with the admin as actor, secrets shown once.
 */
import { ORDERS_API } from '../../src/server/seed/demo-data.js';
import { startBehalf, type RunningBehalf } from '../support/behalf.js';
import { readJson, tokenRequest, type JsonResponse } from '../support/oauth.js';
import { portalToken } from '../support/staff.js';

let running: RunningBehalf;
let adminToken: string;
let adminId: string;

beforeAll(async () => {
  running = await startBehalf();
  adminToken = await portalToken(running.issuer, 'ada', 'openid profile');
  adminId = (await running.behalf.accounts.findByUsername(null as never, 'admin@example.com'))!.id;
});
afterAll(async () => {
  await running?.stop();
});

async function call(method: string, path: string, body?: unknown, token: string | null = adminToken): Promise<JsonResponse> {
  return readJson(
    await fetch(`${running.issuer}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    }),
  );
}

async function auditOf(type: string, clientId?: string) {
  return (await running.behalf.audit.events.query({ type, limit: 100 })).events.filter((event) => !clientId || event.clientId === clientId);
}

describe('authentication', () => {
  it('needs a Bearer token (401) of an admin (403 for support staff)', async () => {
    const none = await call('GET', '/admin/clients', undefined, null);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer /);
    const support = await portalToken(running.issuer, 'sam', 'openid profile');
    expect((await call('GET', '/admin/clients', undefined, support)).status).toBe(403);
    expect((await call('POST', '/admin/clients', { client_id: 'x-by-support' }, support)).status).toBe(403);
    expect((await call('GET', '/admin/resource-servers', undefined, support)).status).toBe(403);
  });
});

describe('clients', () => {
  it('lists and reads clients without any secret', async () => {
    const list = await call('GET', '/admin/clients');
    expect(list.status).toBe(200);
    expect(list.headers.get('cache-control')).toBe('no-store');
    const clients = list.body.clients as Record<string, unknown>[];
    const integrator = clients.find((client) => client.client_id === 'integrator-demo')!;
    expect(integrator).toMatchObject({ has_secret: true, default_resource: ORDERS_API, source: 'database', may_act: 'orders-api' });
    expect(list.text).not.toMatch(/client_secret"|integrator-demo-secret/);
    const one = await call('GET', '/admin/clients/orders-api');
    expect(one.body).toMatchObject({ client_id: 'orders-api', delegation: [{ from: ORDERS_API }], secret_rotated_at: null });
    expect((await call('GET', '/admin/clients/nobody')).status).toBe(404);
  });

  it('creates a client (secret shown once, works at the token endpoint), patches, rotates and deletes it, all audited', async () => {
    const created = await call('POST', '/admin/clients', {
      client_id: 'billing-job',
      client_name: 'Billing job',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      allowed_resources: [ORDERS_API],
      default_resource: ORDERS_API,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ client_id: 'billing-job', client_kind: 'service', has_secret: true, source: 'database' });
    const secret = created.body.client_secret as string;
    expect(secret.length).toBeGreaterThanOrEqual(43);
    const token = await tokenRequest(running.issuer, 'billing-job', secret, { grant_type: 'client_credentials' });
    expect(token.status).toBe(200);
    expect((token.body.access_token as string).split('.')).toHaveLength(3);
    expect((await call('GET', '/admin/clients/billing-job')).text).not.toContain(secret);
    expect((await call('POST', '/admin/clients', { client_id: 'billing-job' })).status).toBe(409);

    const patched = await call('PATCH', '/admin/clients/billing-job', {
      client_name: 'Billing',
      may_act: 'orders-api',
      default_resource: null,
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ client_name: 'Billing', may_act: 'orders-api' });
    expect(patched.body).not.toHaveProperty('default_resource');
    expect(patched.body).not.toHaveProperty('client_secret');
    // The metadata changed, the secret did not.
    expect(
      (await tokenRequest(running.issuer, 'billing-job', secret, { grant_type: 'client_credentials', resource: ORDERS_API })).status,
    ).toBe(200);

    const rotated = await call('POST', '/admin/clients/billing-job/secret', { grace_seconds: 0 });
    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({ client_id: 'billing-job', previous_secret_expires_at: null });
    expect((await tokenRequest(running.issuer, 'billing-job', secret, { grant_type: 'client_credentials' })).status).toBe(401);

    expect((await call('DELETE', '/admin/clients/billing-job')).status).toBe(204);
    expect((await call('GET', '/admin/clients/billing-job')).status).toBe(404);
    expect((await call('DELETE', '/admin/clients/billing-job')).status).toBe(404);

    for (const type of ['admin.client.created', 'admin.client.updated', 'admin.client.secret_rotated', 'admin.client.deleted']) {
      const [event] = await auditOf(type, 'billing-job');
      expect(event).toMatchObject({ actor: adminId, clientId: 'billing-job' });
      expect(event!.details).toMatchObject({ via_client: 'portal' });
      expect(JSON.stringify(event)).not.toContain(secret);
    }
    expect((await auditOf('admin.client.updated', 'billing-job'))[0]!.details).toMatchObject({
      fields: ['client_name', 'default_resource', 'may_act'],
    });
  });

  it.each([
    [{ grant_types: 'client_credentials' }, /grant_types/],
    [{ default_resource: 'https://not-allowed.example.com' }, /default_resource/],
    [{ allowed_resources: ['https://unknown.example.com'], default_resource: null }, /allowed_resources names an unknown resource server/],
    [{ delegation: [{ from: 1 }] }, /delegation/],
    [{ on_behalf: { scope: '' } }, /on_behalf/],
    [{ default_resources: [ORDERS_API] }, /unknown client metadata field default_resources/],
    [{ client_secret: 'chosen-by-the-caller-1234' }, /client_secret cannot be set/],
    [{ client_id: 'renamed' }, /client_id cannot be changed/],
    [{ token_endpoint_auth_method: 'client_secret_jwt_nope' }, /token_endpoint_auth_method/],
  ])('PATCH %j is a 400 invalid_client_metadata naming the field, and changes nothing', async (patch, message) => {
    const before = await call('GET', '/admin/clients/integrator-demo');
    const response = await call('PATCH', '/admin/clients/integrator-demo', patch);
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_client_metadata');
    expect(response.body.error_description).toMatch(message);
    expect((await call('GET', '/admin/clients/integrator-demo')).body).toEqual(before.body);
  });

  it.each([
    ['not json', '{"client_id":', 400],
    ['an array', '[1]', 400],
    ['a string', '"x"', 400],
  ])('refuses a body that is %s with a 400 JSON error', async (_what, body, status) => {
    const response = await call('POST', '/admin/clients', body);
    expect(response.status).toBe(status);
    expect(response.body.error).toBe('invalid_request');
  });

  it('refuses a body over the size limit and a non-JSON content type', async () => {
    const big = await call('POST', '/admin/clients', { client_id: 'big', client_name: 'x'.repeat(running.config.security.maxBodyBytes) });
    expect(big.status).toBe(413);
    const form = await readJson(
      await fetch(`${running.issuer}/admin/clients`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'client_id=x',
      }),
    );
    expect(form.status).toBe(415);
  });

  it('refuses a bad client id and a bad grace period', async () => {
    expect((await call('POST', '/admin/clients', { client_id: 'has space' })).body.error).toBe('invalid_client_metadata');
    for (const grace_seconds of [-1, 604_801, '10', 1.5]) {
      const response = await call('POST', '/admin/clients/integrator-demo/secret', { grace_seconds });
      expect(response.status).toBe(400);
      expect(response.body.error_description).toMatch(/grace_seconds/);
    }
  });
});

describe('secret rotation with a grace period', () => {
  it('accepts the old secret until the grace ends, the new one throughout', async () => {
    const created = await call('POST', '/admin/clients', {
      client_id: 'rotating-job',
      grant_types: ['client_credentials'],
      response_types: [],
      allowed_resources: [ORDERS_API],
      default_resource: ORDERS_API,
      token_endpoint_auth_method: 'client_secret_post',
    });
    const oldSecret = created.body.client_secret as string;
    const rotated = await call('POST', '/admin/clients/rotating-job/secret', { grace_seconds: 2 });
    const newSecret = rotated.body.client_secret as string;
    expect(new Date(rotated.body.previous_secret_expires_at as string).getTime()).toBeGreaterThan(Date.now());
    expect((await call('GET', '/admin/clients/rotating-job')).body.previous_secret_expires_at).toBe(
      rotated.body.previous_secret_expires_at,
    );
    const post = async (secret: string) =>
      readJson(
        await fetch(`${running.issuer}/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'rotating-job', client_secret: secret }).toString(),
        }),
      );
    expect((await post(oldSecret)).status).toBe(200);
    expect((await post(newSecret)).status).toBe(200);
    expect((await post('not-the-secret')).status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    expect((await post(oldSecret)).status).toBe(401);
    expect((await post(newSecret)).status).toBe(200);
    const [event] = await auditOf('admin.client.secret_rotated', 'rotating-job');
    expect(event!.details).toMatchObject({ grace_seconds: 2 });
  });
});

describe('resource servers', () => {
  const id = 'https://ledger.example.com';
  const path = `/admin/resource-servers/${encodeURIComponent(id)}`;

  it('creates, reads, patches (aliases) and deletes, audited', async () => {
    const created = await call('POST', '/admin/resource-servers', {
      identifier: id,
      name: 'Ledger',
      token_format: 'opaque',
      scopes: ['ledger:read'],
      access_token_ttl: 300,
      aliases: ['ledger', 'billing-job-2'],
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ identifier: id, aliases: ['ledger', 'billing-job-2'], token_format: 'opaque' });
    expect((await call('GET', path)).body).toMatchObject({ name: 'Ledger', access_token_ttl: 300 });
    const list = await call('GET', '/admin/resource-servers');
    expect((list.body.resource_servers as { identifier: string }[]).map((server) => server.identifier)).toContain(id);
    const patched = await call('PATCH', path, { aliases: ['ledger-api'], access_token_ttl: null });
    expect(patched.body).toMatchObject({ aliases: ['ledger-api'], access_token_ttl: null, name: 'Ledger' });
    expect((await call('DELETE', path)).status).toBe(204);
    expect((await call('GET', path)).status).toBe(404);
    for (const type of ['admin.resource_server.created', 'admin.resource_server.updated', 'admin.resource_server.deleted']) {
      const [event] = (await auditOf(type)).filter((item) => item.details.identifier === id);
      expect(event).toMatchObject({ actor: adminId });
    }
  });

  it.each([
    [{ identifier: 'not a uri', name: 'x' }, 400, /identifier/],
    [{ identifier: 'https://a.example.com', name: 'x', aliases: ['orders'] }, 400, /orders is already an alias/],
    [{ identifier: 'https://a.example.com', name: 'x', aliases: [ORDERS_API] }, 400, /is the identifier of resource server/],
    [{ identifier: 'https://a.example.com', name: 'x', token_format: 'paseto' }, 400, /token_format/],
    [{ identifier: 'https://a.example.com', name: 'x', access_token_ttl: 5 }, 400, /access_token_ttl/],
    [{ identifier: 'https://a.example.com', name: 'x', colour: 'red' }, 400, /unknown field colour/],
    [{ identifier: ORDERS_API, name: 'again' }, 409, /already exists/],
  ])('refuses %j', async (body, status, message) => {
    const response = await call('POST', '/admin/resource-servers', body);
    expect(response.status).toBe(status);
    expect(response.body.error_description).toMatch(message);
  });

  it('refuses to delete a resource server clients still name, unless forced', async () => {
    const response = await call('DELETE', `/admin/resource-servers/${encodeURIComponent(ORDERS_API)}`);
    expect(response.status).toBe(409);
    expect(response.body.error_description).toMatch(/integrator-demo/);
  });
});

/**
 * RFC 7591 dynamic client registration behind an initial access token, and RFC 7592 management
 * with the registration access token: an integrator registers a service client, gets a JWT for its
 * default resource without naming it, reads, updates and deletes its registration; what would give
 * it power over others is refused; every step is audited with the client as actor.
 */
import * as oauth from 'oauth4webapi';
import { decodeJwt } from 'jose';
import { ORDERS_API, PAYMENTS_AUDIENCE } from '../../src/server/seed/demo-data.js';
import { startBehalf, type RunningBehalf } from '../support/behalf.js';
import { readJson, tokenRequest, type JsonResponse } from '../support/oauth.js';
import { portalToken } from '../support/staff.js';

let running: RunningBehalf;
let adminToken: string;
let as: oauth.AuthorizationServer;

beforeAll(async () => {
  running = await startBehalf();
  adminToken = await portalToken(running.issuer, 'ada', 'openid profile');
  const issuer = new URL(running.issuer);
  as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { [oauth.allowInsecureRequests]: true }));
});
afterAll(async () => {
  await running?.stop();
});

async function initialAccessToken(resources: string[], ttl_seconds?: number): Promise<string> {
  const response = await readJson(
    await fetch(`${running.issuer}/admin/initial-access-tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ resources, ...(ttl_seconds ? { ttl_seconds } : {}) }),
    }),
  );
  expect(response.status).toBe(201);
  return response.body.initial_access_token as string;
}

async function register(metadata: Record<string, unknown>, token?: string): Promise<JsonResponse> {
  return readJson(
    await fetch(as.registration_endpoint!, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(metadata),
    }),
  );
}

async function audit(type: string, clientId: string) {
  return (await running.behalf.audit.events.query({ type, limit: 100 })).events.filter((event) => event.clientId === clientId);
}

it('discovery names the registration endpoint', () => {
  expect(as.registration_endpoint).toBe(`${running.issuer}/reg`);
});

it('refuses a registration without a valid initial access token', async () => {
  const none = await register({ client_name: 'anonymous' });
  expect(none.status).toBe(401);
  expect(none.body.error).toBe('invalid_token');
  expect((await register({ client_name: 'forged' }, 'not-a-real-token')).status).toBe(401);
});

it('registers with oauth4webapi, then gets a JWT for its default resource without naming it', async () => {
  const iat = await initialAccessToken([ORDERS_API]);
  const response = await oauth.dynamicClientRegistrationRequest(
    as,
    { client_name: 'Acme reporting', grant_types: ['client_credentials'] } as never,
    { initialAccessToken: iat, [oauth.allowInsecureRequests]: true },
  );
  const client = await oauth.processDynamicClientRegistrationResponse(response);
  expect(client).toMatchObject({
    client_kind: 'service',
    allowed_resources: [ORDERS_API],
    default_resource: ORDERS_API,
    first_party: false,
  });
  expect(typeof client.client_secret).toBe('string');
  expect(client.registration_access_token).toBeDefined();
  const token = await tokenRequest(running.issuer, client.client_id, client.client_secret as string, { grant_type: 'client_credentials' });
  expect(token.status).toBe(200);
  const claims = decodeJwt(token.body.access_token as string);
  expect(claims).toMatchObject({ aud: ORDERS_API, client_id: client.client_id });
  // Stored like any client: the secret sealed, the client marked as registered dynamically.
  const [row] = (await running.behalf.dataSource.query(
    'SELECT client_secret_encrypted, registration_resources FROM oauth_client WHERE client_id = $1',
    [client.client_id],
  )) as { client_secret_encrypted: string; registration_resources: string[] }[];
  expect(row!.client_secret_encrypted).not.toContain(client.client_secret as string);
  expect(row!.registration_resources).toEqual([ORDERS_API]);
  const [event] = await audit('client.registered', client.client_id);
  expect(event).toMatchObject({ actor: `client:${client.client_id}` });
  expect(JSON.stringify(event)).not.toContain(client.client_secret as string);
});

it.each([
  [{ first_party: true }, 'invalid_client_metadata', /first_party/],
  [{ on_behalf: { scope: 'orders:read' } }, 'invalid_client_metadata', /on_behalf/],
  [{ store: 'electronics' }, 'invalid_client_metadata', /store/],
  [{ resource_servers: [ORDERS_API] }, 'invalid_client_metadata', /resource_servers/],
  [{ behalf_pkce_optional: true }, 'invalid_client_metadata', /behalf_pkce_optional/],
  [{ client_kind: 'backoffice' }, 'invalid_client_metadata', /client_kind/],
  [{ allowed_resources: [PAYMENTS_AUDIENCE] }, 'invalid_client_metadata', /not allowed by the initial access token/],
  [{ grant_types: ['authorization_code'] }, 'invalid_client_metadata', /grant_types/],
  [{ redirect_uris: ['https://acme.example.com/cb'] }, 'invalid_redirect_uri', /redirect_uris/],
  [{ token_endpoint_auth_method: 'none' }, 'invalid_client_metadata', /token_endpoint_auth_method/],
  [{ delegation: [{ from: ORDERS_API, to: 'payments' }] }, 'invalid_client_metadata', /delegation: to payments/],
  [{ may_act: 'no-such-client' }, 'invalid_client_metadata', /may_act/],
])('refuses %j with %s (RFC 7591 §3.2.2)', async (metadata, error, description) => {
  const iat = await initialAccessToken([ORDERS_API]);
  const response = await register(metadata, iat);
  expect(response.status).toBe(400);
  expect(response.body.error).toBe(error);
  expect(response.body.error_description).toMatch(description);
});

it('lets the client set delegation rules and may_act within its allowance', async () => {
  const iat = await initialAccessToken([ORDERS_API, 'payments']);
  const response = await register(
    {
      grant_types: ['client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange'],
      allowed_resources: [ORDERS_API, PAYMENTS_AUDIENCE],
      default_resource: ORDERS_API,
      delegation: [{ from: ORDERS_API, to: 'payments' }],
      may_act: 'orders-api',
    },
    iat,
  );
  expect(response.status).toBe(201);
  expect(response.body).toMatchObject({ may_act: 'orders-api', delegation: [{ from: ORDERS_API, to: 'payments' }] });
});

it('reads, updates and deletes its registration with the registration access token (RFC 7592)', async () => {
  const iat = await initialAccessToken([ORDERS_API, PAYMENTS_AUDIENCE]);
  const created = await register({ client_name: 'Acme sync', allowed_resources: [ORDERS_API] }, iat);
  expect(created.status).toBe(201);
  const clientId = created.body.client_id as string;
  const uri = created.body.registration_client_uri as string;
  let rat = created.body.registration_access_token as string;
  const manage = async (method: string, body?: unknown, token = rat) =>
    readJson(
      await fetch(uri, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      }),
    );

  const read = await manage('GET');
  expect(read.status).toBe(200);
  expect(read.headers.get('cache-control')).toMatch(/no-store/);
  expect(read.body).toMatchObject({ client_id: clientId, client_name: 'Acme sync', default_resource: ORDERS_API });
  expect((await manage('GET', undefined, 'wrong')).status).toBe(401);

  // RFC 7592 §2.2: the full metadata, as read (minus the fields the server sets), with changes.
  const {
    registration_access_token: _rat,
    registration_client_uri: _uri,
    client_id_issued_at: _at,
    client_secret_expires_at: _exp,
    ...current
  } = read.body;
  const updated = await manage('PUT', { ...current, client_name: 'Acme sync v2', allowed_resources: [ORDERS_API, PAYMENTS_AUDIENCE] });
  expect(updated.status).toBe(200);
  expect(updated.body).toMatchObject({ client_name: 'Acme sync v2', allowed_resources: [ORDERS_API, PAYMENTS_AUDIENCE] });
  rat = updated.body.registration_access_token as string;
  // The initial access token's bound holds for updates too.
  const widened = await manage('PUT', { ...current, allowed_resources: [ORDERS_API, 'https://elsewhere.example.com'] });
  expect(widened.status).toBe(400);
  expect(widened.body.error).toBe('invalid_client_metadata');
  const power = await manage('PUT', { ...current, first_party: true });
  expect(power.body.error_description).toMatch(/first_party/);
  // The secret is unchanged by updates.
  expect(
    (await tokenRequest(running.issuer, clientId, created.body.client_secret as string, { grant_type: 'client_credentials' })).status,
  ).toBe(200);

  expect((await manage('DELETE')).status).toBe(204);
  expect(
    (await tokenRequest(running.issuer, clientId, created.body.client_secret as string, { grant_type: 'client_credentials' })).status,
  ).toBe(401);
  expect(await audit('client.updated', clientId)).toHaveLength(1);
  expect(await audit('client.deleted', clientId)).toHaveLength(1);
});

it('an initial access token bounded to resources an administrator names, audited', async () => {
  const bad = await readJson(
    await fetch(`${running.issuer}/admin/initial-access-tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ resources: ['https://unknown.example.com'] }),
    }),
  );
  expect(bad.status).toBe(400);
  expect(bad.body.error_description).toMatch(/unknown resource server/);
  const support = await portalToken(running.issuer, 'sam', 'openid profile');
  const refused = await fetch(`${running.issuer}/admin/initial-access-tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${support}`, 'content-type': 'application/json' },
    body: JSON.stringify({ resources: [ORDERS_API] }),
  });
  expect(refused.status).toBe(403);
  const events = (await running.behalf.audit.events.query({ type: 'admin.initial_access_token.created', limit: 100 })).events;
  expect(events.length).toBeGreaterThan(0);
  expect(events[0]!.details).toMatchObject({ allowed_resources: expect.any(Array) });
});

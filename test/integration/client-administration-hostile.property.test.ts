/**
 * Hostile input to the client-administration surfaces, property-based (fast-check, fixed seed):
 * arbitrary JSON (wrong types, NULs, huge and nested values, unknown and reserved fields) as
 * client metadata to the admin API and to dynamic registration, and as resource-server fields.
 * Every answer is a documented status with a JSON error, never a 5xx or a stack trace.
 */
import fc from 'fast-check';
import { ORDERS_API } from '../../src/server/seed/demo-data.js';
import { startBehalf, type RunningBehalf } from '../support/behalf.js';
import { portalToken } from '../support/staff.js';

const SEED = Number(process.env.HOSTILE_SEED ?? 20261205);
const RUNS = 40;
const STACK_TRACE = /\n\s+at |node_modules|TypeError|ReferenceError|QueryFailedError|invalid input syntax/;

let running: RunningBehalf;
let adminToken: string;
let iat: string;

beforeAll(async () => {
  running = await startBehalf();
  adminToken = await portalToken(running.issuer, 'ada', 'openid profile');
  const issued = await fetch(`${running.issuer}/admin/initial-access-tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ resources: [ORDERS_API] }),
  });
  iat = ((await issued.json()) as { initial_access_token: string }).initial_access_token;
}, 60_000);
afterAll(async () => {
  await running?.stop();
});

async function probe(method: string, path: string, token: string, body: unknown, allowed: number[]): Promise<void> {
  const response = await fetch(`${running.issuer}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5_000),
  });
  const text = await response.text();
  const what = `${method} ${path} ${JSON.stringify(body).slice(0, 300)} -> ${response.status}: ${text.slice(0, 300)}`;
  if (response.status >= 500) throw new Error(`server error: ${what}`);
  if (STACK_TRACE.test(text)) throw new Error(`internals in body: ${what}`);
  if (!allowed.includes(response.status)) throw new Error(`unexpected status: ${what}`);
  if (response.status >= 400) expect(JSON.parse(text)).toMatchObject({ error: expect.any(String) });
}

const NASTY = fc.constantFrom(
  '',
  '\u0000',
  'a\u0000b',
  '\uD800',
  'x'.repeat(5_000),
  'https://orders.example.com#frag',
  ORDERS_API,
  'payments',
  '%00',
);
const value = fc.oneof(NASTY, fc.jsonValue({ maxDepth: 3 }), fc.array(NASTY, { maxLength: 3 }), fc.constant(null));
const FIELDS = [
  'client_id',
  'client_name',
  'client_kind',
  'store',
  'first_party',
  'grant_types',
  'response_types',
  'redirect_uris',
  'scope',
  'allowed_resources',
  'default_resource',
  'resource_servers',
  'on_behalf',
  'delegation',
  'may_act',
  'token_endpoint_auth_method',
  'behalf_pkce_optional',
  'jwks',
  'client_secret',
  'has_secret',
];
const metadata = fc.dictionary(fc.oneof(fc.constantFrom(...FIELDS), fc.string({ maxLength: 20 })), value, { maxKeys: 6 });

it('the admin API answers any client metadata with 2xx or a 4xx JSON error', async () => {
  await fc.assert(
    fc.asyncProperty(metadata, async (body) => {
      await probe('POST', '/admin/clients', adminToken, body, [201, 400, 409]);
      await probe('PATCH', '/admin/clients/integrator-demo', adminToken, body, [200, 400]);
    }),
    { seed: SEED, numRuns: RUNS },
  );
}, 120_000);

it('dynamic registration answers any metadata with 201 or an RFC 7591 §3.2.2 error', async () => {
  await fc.assert(
    fc.asyncProperty(metadata, async (body) => {
      await probe('POST', '/reg', iat, body, [201, 400]);
    }),
    { seed: SEED, numRuns: RUNS },
  );
}, 120_000);

it('the resource-server API answers any fields with 2xx or a 4xx JSON error', async () => {
  const fields = fc.dictionary(
    fc.constantFrom('identifier', 'name', 'token_format', 'scopes', 'access_token_ttl', 'aliases', 'colour'),
    value,
    { maxKeys: 5 },
  );
  await fc.assert(
    fc.asyncProperty(fields, async (body) => {
      await probe('POST', '/admin/resource-servers', adminToken, body, [201, 400, 409]);
      await probe('PATCH', `/admin/resource-servers/${encodeURIComponent('urn:behalf:demo:payments')}`, adminToken, body, [200, 400]);
    }),
    { seed: SEED, numRuns: RUNS },
  );
}, 120_000);

/**
 * Issue #15's end-to-end test, as the README's integrator walkthrough
 * ("Revocation, introspection and the token status list") tells it: a new
 * integrator registers its clients with the CLI, gets a JWT for its default
 * resource without naming it, has it delegated through two hops (nested
 * `act`), revokes the first token, and sees both derived tokens inactive at
 * introspection and refused by the resource-server kit (the orders API and a
 * bare verifier) within 5 s. Real PostgreSQL, real HTTP, openid-client.
 */
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { runCli } from '../../src/cli/index.js';
import { createAccessTokenVerifier, KitError } from '../../src/resource-server/index.js';
import { startBehalf, type RunningBehalf } from '../support/behalf.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { call, startOrdersApi, type RunningOrdersApi } from '../support/orders-api.js';
import { ACCESS_TOKEN, TOKEN_EXCHANGE } from '../support/on-behalf.js';

const ORDERS = 'http://localhost:4003';
const PAYMENTS = 'urn:behalf:demo:payments';
const SECRETS = { 'acme-reports': 'acme-reports-secret-2026', 'acme-payments': 'acme-payments-secret-2026' };

let database: TestDatabase;
let running: RunningBehalf;
let orders: RunningOrdersApi;

async function cli(...argv: string[]): Promise<void> {
  let stderr = '';
  const io = { stdout: { write: () => undefined }, stderr: { write: (text: string) => (stderr += text) } };
  const code = await runCli(argv, io, { env: { NODE_ENV: 'test', DATABASE_URL: database.url } });
  if (code !== 0) throw new Error(`behalf ${argv.join(' ')} failed: ${stderr}`);
}

function configFor(clientId: string, secret: string): Promise<client.Configuration> {
  return client.discovery(new URL(running.issuer), clientId, secret, undefined, { execute: [client.allowInsecureRequests] });
}

/** RFC 8693 delegation: `subjectToken` exchanged by the client of `config`. */
async function delegate(config: client.Configuration, subjectToken: string, params: Record<string, string> = {}): Promise<string> {
  const response = await client.genericGrantRequest(config, TOKEN_EXCHANGE, {
    subject_token: subjectToken,
    subject_token_type: ACCESS_TOKEN,
    ...params,
  });
  return response.access_token;
}

beforeAll(async () => {
  database = await createTestDatabase();
  // The integrator's two clients, registered as the README shows (`npm run cli -- clients create …`).
  await cli('clients', 'create', 'acme-reports', '--resource', ORDERS, '--default-resource', ORDERS, '--secret', SECRETS['acme-reports']);
  await cli(
    'clients',
    'create',
    'acme-payments',
    '--operates',
    PAYMENTS,
    '--resource',
    ORDERS,
    '--delegation',
    `${PAYMENTS}=${ORDERS}`,
    '--secret',
    SECRETS['acme-payments'],
  );
  running = await startBehalf({ database });
  orders = await startOrdersApi(running);
});

afterAll(async () => {
  await orders?.stop();
  await running?.stop();
  await database?.drop();
});

it('revoking the first token makes both tokens derived from it inactive at introspection and refused by the kit within 5 s', async () => {
  const acme = await configFor('acme-reports', SECRETS['acme-reports']);
  const ordersApi = await configFor('orders-api', 'orders-api-demo-secret');
  const acmePayments = await configFor('acme-payments', SECRETS['acme-payments']);

  // 1. A JWT for the default resource, without naming it; it names its place in a status list.
  const first = (await client.clientCredentialsGrant(acme, { scope: 'orders:read' })).access_token;
  const firstClaims = decodeJwt(first);
  expect(firstClaims).toMatchObject({ aud: ORDERS, client_id: 'acme-reports', sub: 'acme-reports' });
  expect(firstClaims.status).toEqual({
    status_list: { idx: expect.any(Number), uri: expect.stringMatching(new RegExp(`^${running.issuer}/status-lists/\\d+$`)) },
  });

  // 2. Two hops: the orders API (which operates it) → payments; acme-payments (which operates payments) → orders.
  const second = await delegate(ordersApi, first, { audience: 'payments' });
  const third = await delegate(acmePayments, second);
  expect(decodeJwt(second)).toMatchObject({ aud: PAYMENTS, sub: 'acme-reports', act: { sub: 'orders-api' } });
  expect(decodeJwt(third)).toMatchObject({
    aud: ORDERS,
    sub: 'acme-reports',
    act: { sub: 'acme-payments', act: { sub: 'orders-api' } },
    status: { status_list: { idx: expect.any(Number) } },
  });

  // Live before: introspection (each by a client allowed to look) and the kit.
  expect(await client.tokenIntrospection(ordersApi, second)).toMatchObject({ active: true, act: { sub: 'orders-api' } });
  expect(await client.tokenIntrospection(acmePayments, third)).toMatchObject({
    active: true,
    token_type: 'Bearer',
    act: { sub: 'acme-payments', act: { sub: 'orders-api' } },
  });
  const paymentsKit = createAccessTokenVerifier({ issuer: running.issuer, audience: PAYMENTS, statusList: {} });
  await expect(paymentsKit(second)).resolves.toMatchObject({ sub: 'acme-reports' });
  expect((await call(orders.url, '/orders', third)).status).toBe(200);

  // 3. The integrator revokes its first token (RFC 7009, now for JWTs too).
  await client.tokenRevocation(acme, first);
  const revokedAt = Date.now();

  // Introspection knows at once: the token and both derived from it are inactive.
  expect(await client.tokenIntrospection(acme, first)).toEqual({ active: false });
  expect(await client.tokenIntrospection(ordersApi, second)).toEqual({ active: false });
  expect(await client.tokenIntrospection(acmePayments, third)).toEqual({ active: false });

  // The kit (which cached the list a moment ago) refuses both within 5 s.
  const refused = async (): Promise<boolean> => {
    const kit = await paymentsKit(second).then(
      () => false,
      (error: unknown) => error instanceof KitError && error.code === 'token_revoked',
    );
    const api = await call(orders.url, '/orders', third);
    return kit && api.status === 401;
  };
  while (!(await refused())) {
    expect(Date.now() - revokedAt).toBeLessThan(5000);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(Date.now() - revokedAt).toBeLessThan(5000);
  const answer = await call(orders.url, '/orders', third);
  expect(answer.body).toEqual({ error: 'invalid_token', error_description: 'the access token has been revoked' });
  expect(answer.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);

  // Nothing derived from it can be made any more either.
  await expect(delegate(ordersApi, first, { audience: 'payments' })).rejects.toMatchObject({ error: 'invalid_request' });
});

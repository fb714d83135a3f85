/**
 * Resource-server aliases as RFC 8693 `audience` (§2.1: "the logical name of the target service"),
 * set through the admin API: several per server, a client id among them; each resolves to its
 * server in a delegation exchange, a removed alias stops resolving, and an alias and a resource
 * naming different servers are refused.
 */
import { decodeJwt } from 'jose';
import { startBehalf, type RunningBehalf } from '../support/behalf.js';
import { createDelegationDatabase, delegate, LEDGER, ORDERS, PAYMENTS } from '../support/delegation.js';
import type { TestDatabase } from '../support/database.js';
import { readJson, type JsonResponse } from '../support/oauth.js';
import { customerId, exchange, onBehalfParams, reauthenticate } from '../support/on-behalf.js';
import { portalToken } from '../support/staff.js';

let database: TestDatabase;
let running: RunningBehalf;
let adminToken: string;
/** A customer's on-behalf token for the orders API, which orders-api may delegate to the payments service. */
let customerToken: string;

beforeAll(async () => {
  database = await createDelegationDatabase();
  running = await startBehalf({ database });
  adminToken = await portalToken(running.issuer, 'ada', 'openid profile');
  const oleg = await customerId(running, 'electronics', 'oleg@example.com');
  const { actorToken } = await reauthenticate(running, { customer: oleg });
  const response = await exchange(running, onBehalfParams(oleg, actorToken));
  expect(response.status).toBe(200);
  customerToken = String(response.body.access_token);
});
afterAll(async () => {
  await running?.stop();
  await database?.drop();
});

async function setAliases(identifier: string, aliases: string[]): Promise<JsonResponse> {
  return readJson(
    await fetch(`${running.issuer}/admin/resource-servers/${encodeURIComponent(identifier)}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ aliases }),
    }),
  );
}

it('resolves each alias of a server, a client id among them, to that server', async () => {
  // payments-svc is the client that operates the payments service: integrators may know it by that name.
  const patched = await setAliases(PAYMENTS, ['payments', 'payments-svc', 'pay']);
  expect(patched.status).toBe(200);
  expect(patched.body.aliases).toEqual(['payments', 'payments-svc', 'pay']);
  for (const audience of ['payments', 'payments-svc', 'pay']) {
    const response = await delegate(running, 'orders-api', customerToken, { audience });
    expect({ audience, status: response.status }).toEqual({ audience, status: 200 });
    expect(decodeJwt(String(response.body.access_token)).aud).toBe(PAYMENTS);
  }
  // resource and audience naming the same server through an alias is one target.
  expect((await delegate(running, 'orders-api', customerToken, { resource: PAYMENTS, audience: 'payments-svc' })).status).toBe(200);
});

it('refuses an alias and a resource that name different servers, and an alias no longer configured', async () => {
  const both = await delegate(running, 'orders-api', customerToken, { resource: ORDERS, audience: 'pay' });
  expect(both.status).toBe(400);
  expect(both.body.error).toBe('invalid_target');
  expect(String(both.body.error_description)).toMatch(/must name one resource server|may not get tokens for http:\/\/localhost:4003/);

  expect((await setAliases(PAYMENTS, ['payments'])).status).toBe(200);
  const gone = await delegate(running, 'orders-api', customerToken, { audience: 'pay' });
  expect(gone.status).toBe(400);
  expect(gone.body.error).toBe('invalid_target');
  expect((await delegate(running, 'orders-api', customerToken, { audience: 'payments' })).status).toBe(200);
});

it('keeps aliases unique: one server’s alias cannot be another’s, nor an identifier', async () => {
  const taken = await setAliases(LEDGER, ['ledger', 'payments']);
  expect(taken.status).toBe(400);
  expect(taken.body.error_description).toMatch(/payments is already an alias of resource server urn:behalf:demo:payments/);
  const identifier = await setAliases(LEDGER, [ORDERS]);
  expect(identifier.status).toBe(400);
  expect(identifier.body.error_description).toMatch(/is the identifier of resource server/);
});

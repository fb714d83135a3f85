/**
 * The demo Orders API against a real Behalf, over HTTP, with real tokens: a
 * customer's own JWT (code flow with resource=http://localhost:4003) and an
 * on-behalf JWT (re-authentication + RFC 8693 exchange). Who owns, who did,
 * for whom — in the rows, in the answers and in the orders API's audit chain.
 */
import { decodeJwt } from 'jose';
import { AuditRepository, verifyChain } from '../../src/audit/index.js';
import { startBehalf, type RunningBehalf } from '../support/behalf.js';
import { basic, postForm } from '../support/oauth.js';
import { customerId, exchange, onBehalfParams, reauthenticate, staffId } from '../support/on-behalf.js';
import { call, customerToken, startOrdersApi, type RunningOrdersApi } from '../support/orders-api.js';
import { eventually } from '../support/poll.js';

let running: RunningBehalf;
let orders: RunningOrdersApi;
let oleg: string;
let sam: string;
let olegToken: string;
let oboToken: string;
let actorToken: string;
let products: { id: string; priceCents: number }[];

const api = (path: string, token: string | undefined, init?: Parameters<typeof call>[3]) => call(orders.url, path, token, init);

async function row(table: string, id: string, columns = 'owner_id, created_by, modified_by, on_behalf_of') {
  const [found] = (await orders.api.dataSource.query(`SELECT ${columns} FROM ${table} WHERE id = $1`, [id])) as Record<
    string,
    string | null
  >[];
  return found;
}

async function placeOrder(token: string, items: [number, number][]) {
  for (const [index, quantity] of items)
    expect((await api('/cart/items', token, { body: { productId: products[index]!.id, quantity } })).status).toBe(201);
  const placed = await api('/orders', token, { method: 'POST' });
  expect(placed.status).toBe(201);
  return placed.body as { id: string; totalCents: number; [key: string]: unknown };
}

beforeAll(async () => {
  running = await startBehalf();
  orders = await startOrdersApi(running, { sessionStatusCacheSeconds: 1 });
  oleg = await customerId(running, 'electronics', 'oleg@example.com');
  sam = await staffId(running, 'support@example.com');
  olegToken = await customerToken(running, 'oleg@example.com');
  ({ actorToken } = await reauthenticate(running, { customer: oleg, ticket: 'SUP-77' }));
  const exchanged = await exchange(running, onBehalfParams(oleg, actorToken));
  expect(exchanged.status).toBe(200);
  oboToken = String(exchanged.body.access_token);
  products = (await api('/products', olegToken)).body.products as typeof products;
}, 60_000);
afterEach(() => expect(orders.errors).toEqual([]));
afterAll(async () => {
  await orders?.stop();
  await running?.stop();
});

describe('tokens', () => {
  it('takes the customer’s own JWT and the on-behalf JWT, both for http://localhost:4003', async () => {
    expect(decodeJwt(olegToken)).toMatchObject({
      sub: oleg,
      aud: 'http://localhost:4003',
      client_id: 'storefront-electronics',
      scope: expect.stringContaining('orders:write'),
    });
    expect(decodeJwt(olegToken).act).toBeUndefined();
    expect(decodeJwt(oboToken)).toMatchObject({ sub: oleg, act: { sub: sam }, obo_sid: expect.any(String) });
    expect(products).toHaveLength(8);
    expect((await api('/healthz', undefined)).body).toEqual({ status: 'ok' });
    // A person opening the API's address sees what it is and how to call it (it was a 404).
    const index = await api('/', undefined);
    expect(index.status).toBe(200);
    expect(index.body).toMatchObject({
      name: 'Orders API (Behalf demo resource server)',
      endpoints: expect.arrayContaining([expect.objectContaining({ endpoint: 'GET /products', scope: 'orders:read' })]),
    });
  });

  it('refuses a missing or malformed token with RFC 6750 errors', async () => {
    const missing = await api('/orders', undefined);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer realm="orders-api"/);
    const forged = await api('/orders', `${olegToken.slice(0, -4)}AAAA`);
    expect(forged.status).toBe(401);
    expect(forged.body).toMatchObject({ error: 'invalid_token' });
  });

  it('needs orders:write to write (insufficient_scope for a read-only on-behalf token)', async () => {
    const readOnly = String((await exchange(running, onBehalfParams(oleg, actorToken, { scope: 'orders:read' }))).body.access_token);
    expect((await api('/orders', readOnly)).status).toBe(200);
    const refused = await api('/cart/items', readOnly, { body: { productId: products[0]!.id, quantity: 1 } });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ error: 'insufficient_scope' });
    expect(refused.headers.get('www-authenticate')).toContain('scope="orders:write"');
  });
});

describe('attribution', () => {
  let own: { id: string; totalCents: number };
  let onBehalf: { id: string; totalCents: number };

  it('an order the customer places himself: owner = created_by = customer, on_behalf_of null', async () => {
    own = await placeOrder(olegToken, [
      [0, 1],
      [1, 2],
    ]);
    expect(own).toMatchObject({
      ownerId: oleg,
      createdBy: oleg,
      modifiedBy: oleg,
      onBehalfOf: null,
      placedBy: { accountId: oleg, onBehalf: false },
      status: 'placed',
    });
    expect(own.totalCents).toBe(products[0]!.priceCents + 2 * products[1]!.priceCents);
    expect(await row('shop_order', own.id)).toEqual({ owner_id: oleg, created_by: oleg, modified_by: oleg, on_behalf_of: null });
    expect((await api('/cart', olegToken)).body).toMatchObject({ items: [], subtotalCents: 0 });
  });

  it('an order placed on behalf: owner = customer, created_by = modified_by = agent, on_behalf_of = customer', async () => {
    onBehalf = await placeOrder(oboToken, [[2, 1]]);
    expect(onBehalf).toMatchObject({
      ownerId: oleg,
      createdBy: sam,
      modifiedBy: sam,
      onBehalfOf: oleg,
      placedBy: { accountId: sam, onBehalf: true },
    });
    expect(await row('shop_order', onBehalf.id)).toEqual({ owner_id: oleg, created_by: sam, modified_by: sam, on_behalf_of: oleg });
    const [line] = (await api(`/orders/${onBehalf.id}`, olegToken)).body.lines as { id: string }[];
    expect(await row('shop_order_line', line!.id, 'created_by, on_behalf_of')).toEqual({ created_by: sam, on_behalf_of: oleg });
  });

  it('GET /orders shows the customer who placed each order', async () => {
    const list = (await api('/orders', olegToken)).body.orders as Record<string, unknown>[];
    expect(list.map((order) => [order.id, order.placedBy])).toEqual([
      [onBehalf.id, { accountId: sam, onBehalf: true }],
      [own.id, { accountId: oleg, onBehalf: false }],
    ]);
  });

  it('a payment recorded on behalf is the agent’s; the customer paying the rest changes only modifiedBy', async () => {
    const partial = await api(`/orders/${onBehalf.id}/payments`, oboToken, { body: { method: 'demo-card', amount: '1.00' } });
    expect(partial.status).toBe(201);
    expect(partial.body.payment).toMatchObject({ amountCents: 100, createdBy: sam, modifiedBy: sam, onBehalfOf: oleg });
    expect(partial.body.order).toMatchObject({ status: 'placed', paidCents: 100, modifiedBy: sam, onBehalfOf: oleg });
    expect(await row('shop_payment', (partial.body.payment as { id: string }).id)).toEqual({
      owner_id: oleg,
      created_by: sam,
      modified_by: sam,
      on_behalf_of: oleg,
    });

    const rest = (onBehalf.totalCents - 100) / 100;
    const paid = await api(`/orders/${onBehalf.id}/payments`, olegToken, { body: { method: 'demo-card', amount: rest } });
    expect(paid.status).toBe(201);
    // onBehalfOf describes the creation; who changed what later is in the audit trail.
    expect(paid.body.order).toMatchObject({
      status: 'paid',
      createdBy: sam,
      modifiedBy: oleg,
      onBehalfOf: oleg,
      placedBy: { accountId: sam, onBehalf: true },
    });
    expect(paid.body.payment).toMatchObject({ createdBy: oleg, onBehalfOf: null });
    const again = await api(`/orders/${onBehalf.id}/payments`, olegToken, { body: { method: 'demo-card', amount: 1 } });
    expect(again.status).toBe(409);
  });
});

describe('payment methods', () => {
  const card = { brand: 'visa', last4: '4242', expMonth: 12, expYear: new Date().getUTCFullYear() + 2 };

  it('cannot be changed on behalf (clear 403), can be by the customer, and can be read on behalf', async () => {
    const refused = await api('/payment-methods', oboToken, { method: 'PUT', body: { methods: [card] } });
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({
      error: 'on_behalf_forbidden',
      error_description: expect.stringMatching(/^changing payment methods is not allowed while acting on behalf of a customer/),
    });
    expect((await api('/payment-methods', oboToken)).body.methods).toEqual([]);

    const saved = await api('/payment-methods', olegToken, { method: 'PUT', body: { methods: [card] } });
    expect(saved.status).toBe(200);
    expect(saved.body.methods).toEqual([expect.objectContaining({ ...card, isDefault: true, createdBy: oleg, onBehalfOf: null })]);
    expect((await api('/payment-methods', oboToken)).body.methods).toHaveLength(1);
  });
});

describe('activity and audit', () => {
  it('/me/activity lists what was done on the account, newest first, with actor = agent on behalf', async () => {
    await orders.api.sequencer.drain(); // what its sequencer does within a second
    const { body } = await api('/me/activity?limit=100', olegToken);
    const events = body.events as { seq: number; type: string; actor: string; onBehalf: boolean; sessionId: string | null }[];
    expect(events.map((event) => event.seq)).toEqual([...events.map((event) => event.seq)].sort((a, b) => b - a));
    const created = events.filter((event) => event.type === 'resource.order.created');
    expect(created.map((event) => [event.actor, event.onBehalf])).toEqual([
      [sam, true],
      [oleg, false],
    ]);
    const payments = events.filter((event) => event.type === 'resource.payment.created');
    expect(payments.map((event) => event.actor)).toEqual([oleg, sam]);
    expect(payments[1]!.sessionId).toBe(decodeJwt(oboToken).obo_sid);
    for (const type of [
      'resource.cart_item.created',
      'resource.cart_item.deleted',
      'resource.order_line.created',
      'resource.order.updated',
      'resource.payment_method.created',
    ]) {
      expect(events.map((event) => event.type)).toContain(type);
    }
  });

  it('pages with before/limit', async () => {
    await orders.api.sequencer.drain();
    const first = (await api('/me/activity?limit=2', olegToken)).body;
    expect(first.events).toHaveLength(2);
    expect(first.nextBefore).toMatch(/^q\d+$/);
    const second = (await api(`/me/activity?limit=2&before=${first.nextBefore as string}`, olegToken)).body;
    const ids = (page: Record<string, unknown>) => (page.events as { seq: number }[]).map((event) => event.seq);
    expect(ids(second)).toHaveLength(2);
    expect(ids(second).filter((id) => ids(first).includes(id))).toEqual([]);
    const bad = await api('/me/activity?before=12', olegToken);
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/before must be a paging cursor/);
  });

  it('the orders API’s audit log verifies', async () => {
    await orders.api.sequencer.drain();
    const store = new AuditRepository(orders.api.dataSource, 'orders_audit_event');
    const result = await verifyChain('orders_audit_event', store.stream(), [], async () => {
      throw new Error('no checkpoints expected');
    });
    expect(result).toMatchObject({ ok: true });
    expect(result.events).toBeGreaterThan(10);
  });
});

describe('ending the session at Behalf', () => {
  it('refuses the on-behalf token within the status cache (1 s) while the customer’s own token keeps working', async () => {
    expect((await api('/orders', oboToken)).status).toBe(200);
    const ended = await postForm(
      `${running.issuer}/on-behalf/sessions/end`,
      new URLSearchParams({ session_id: String(decodeJwt(oboToken).obo_sid) }),
      { authorization: basic('storefront-electronics', 'storefront-demo-secret') },
    );
    expect(ended.status).toBe(200);
    const endedAt = Date.now();
    const refused = await eventually(
      async () => {
        const response = await api('/orders', oboToken);
        return response.status === 401 ? response : undefined;
      },
      { timeoutMs: 5000, intervalMs: 100, what: 'the on-behalf token refused' },
    );
    expect(Date.now() - endedAt).toBeLessThan(2500);
    expect(refused.body).toEqual({ error: 'invalid_token', error_description: 'the on-behalf session has ended' });
    expect((await api('/orders', olegToken)).status).toBe(200);
  });
});

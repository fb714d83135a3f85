/**
 * The Orders API's edge: hostile or mistaken input is a clear 4xx (never a
 * 500), one customer cannot reach another's data, and browsers may call it
 * only from the configured storefront origin.
 */
import { randomUUID } from 'node:crypto';
import { startBehalf, type RunningBehalf } from '../support/behalf.js';
import { call, customerToken, startOrdersApi, type RunningOrdersApi } from '../support/orders-api.js';

let running: RunningBehalf;
let orders: RunningOrdersApi;
let oleg: string;
let anna: string;
let electronics: { id: string }[];
let olegOrder: string;
let olegCartItem: string;

const api = (path: string, token: string | undefined, init?: Parameters<typeof call>[3]) => call(orders.url, path, token, init);

beforeAll(async () => {
  running = await startBehalf();
  orders = await startOrdersApi(running);
  oleg = await customerToken(running, 'oleg@example.com');
  anna = await customerToken(running, 'anna@example.com');
  electronics = (await api('/products', oleg)).body.products as { id: string }[];
  await api('/cart/items', oleg, { body: { productId: electronics[0]!.id, quantity: 1 } });
  olegOrder = String((await api('/orders', oleg, { method: 'POST' })).body.id);
  olegCartItem = String((await api('/cart/items', oleg, { body: { productId: electronics[1]!.id, quantity: 1 } })).body.id);
}, 60_000);
afterEach(() => expect(orders.errors).toEqual([]));
afterAll(async () => {
  await orders?.stop();
  await running?.stop();
});

describe('bad input', () => {
  const json = (body: unknown) => ({ body });
  const raw = (body: string, contentType = 'application/json') => ({ body, headers: { 'content-type': contentType } });

  it.each([
    ['an unknown product', 400, '/cart/items', () => json({ productId: randomUUID(), quantity: 1 }), /^productId: no product/],
    [
      'a product id that is not a UUID',
      400,
      '/cart/items',
      () => json({ productId: 'abc', quantity: 1 }),
      /^productId must be a product id/,
    ],
    ['a NUL byte in the product id', 400, '/cart/items', () => json({ productId: '\u0000', quantity: 1 }), /^productId/],
    ['quantity 0', 400, '/cart/items', () => json({ productId: electronics[2]!.id, quantity: 0 }), /^quantity must be at least 1/],
    ['quantity 10^9', 400, '/cart/items', () => json({ productId: electronics[2]!.id, quantity: 1e9 }), /^quantity must be at most 99/],
    [
      'a fractional quantity',
      400,
      '/cart/items',
      () => json({ productId: electronics[2]!.id, quantity: 1.5 }),
      /^quantity must be a whole number/,
    ],
    ['a quantity as a string', 400, '/cart/items', () => json({ productId: electronics[2]!.id, quantity: '2' }), /^quantity/],
    ['a missing quantity', 400, '/cart/items', () => json({ productId: electronics[2]!.id }), /^quantity is required/],
    ['an unknown field', 400, '/cart/items', () => json({ productId: electronics[2]!.id, quantity: 1, price: 0 }), /^unknown field price/],
    ['malformed JSON', 400, '/cart/items', () => raw('{"productId": '), /not valid JSON/],
    ['a JSON array', 400, '/cart/items', () => raw('[]'), /must be a JSON object/],
    ['JSON null', 400, '/cart/items', () => raw('null'), /not valid JSON/],
    [
      '__proto__ in the body',
      400,
      '/cart/items',
      () => raw('{"__proto__": {"admin": true}, "productId": "x", "quantity": 1}'),
      /not valid JSON/,
    ],
    [
      'a huge body',
      413,
      '/cart/items',
      () => raw(JSON.stringify({ productId: 'x'.repeat(200_000), quantity: 1 })),
      /larger than 16384 bytes/,
    ],
    [
      'a form body',
      415,
      '/cart/items',
      () => raw('productId=x&quantity=1', 'application/x-www-form-urlencoded'),
      /Content-Type: application\/json/,
    ],
    [
      'an unknown payment method',
      400,
      () => `/orders/${olegOrder}/payments`,
      () => json({ method: 'cash', amount: 1 }),
      /^method must be "demo-card"/,
    ],
    [
      'a negative amount',
      400,
      () => `/orders/${olegOrder}/payments`,
      () => json({ method: 'demo-card', amount: -1 }),
      /^amount must be a positive amount/,
    ],
    [
      'an amount with three decimals',
      400,
      () => `/orders/${olegOrder}/payments`,
      () => json({ method: 'demo-card', amount: 1.001 }),
      /^amount/,
    ],
    ['an absurd amount', 400, () => `/orders/${olegOrder}/payments`, () => json({ method: 'demo-card', amount: 1e21 }), /^amount/],
    [
      'more than the outstanding amount',
      400,
      () => `/orders/${olegOrder}/payments`,
      () => json({ method: 'demo-card', amount: '99999.00' }),
      /must not exceed the outstanding/,
    ],
  ])('%s → %i', async (_what, status, path, init, message) => {
    const response = await api(typeof path === 'function' ? path() : path, oleg, { method: 'POST', ...init() });
    expect(response.status).toBe(status);
    expect(response.body).toMatchObject({ error: expect.any(String), error_description: expect.stringMatching(message) });
  });

  it('refuses bad payment methods, query parameters, paths and methods without a 500', async () => {
    const card = { brand: 'visa', last4: '4242', expMonth: 12, expYear: new Date().getUTCFullYear() + 1 };
    const cases: [string, Parameters<typeof call>[3], number][] = [
      ['/payment-methods', { method: 'PUT', body: { methods: [{ ...card, last4: '12345' }] } }, 400],
      ['/payment-methods', { method: 'PUT', body: { methods: [{ ...card, expMonth: 13 }] } }, 400],
      ['/payment-methods', { method: 'PUT', body: { methods: [{ ...card, expYear: 1999 }] } }, 400],
      ['/payment-methods', { method: 'PUT', body: { methods: Array(6).fill(card) } }, 400],
      [
        '/payment-methods',
        {
          method: 'PUT',
          body: {
            methods: [
              { ...card, isDefault: true },
              { ...card, isDefault: true },
            ],
          },
        },
        400,
      ],
      ['/payment-methods', { method: 'PUT', body: { methods: 'all' } }, 400],
      ['/me/activity?limit=0', {}, 400],
      ['/me/activity?limit=abc', {}, 400],
      ['/me/activity?before=-1', {}, 400],
      ['/me/activity?limit=1&limit=2', {}, 400],
      ['/orders?limit=1000', {}, 400],
      ['/products?store=toys', {}, 400],
      ['/products?store=books', {}, 400],
      ['/orders/not-a-uuid', {}, 404],
      [`/orders/${randomUUID()}`, {}, 404],
      ['/cart/items/not-a-uuid', { method: 'DELETE' }, 404],
      ['/nowhere', {}, 404],
      ['/orders', { method: 'PATCH' }, 405],
    ];
    for (const [path, init, status] of cases) {
      const response = await api(path, oleg, init);
      expect([path, response.status]).toEqual([path, status]);
      expect(typeof response.body.error_description).toBe('string');
    }
    expect((await api('/products?store=books', oleg)).body.error_description).toBe(
      'this token belongs to the electronics store, not books',
    );
  });

  it('places no order from an empty cart', async () => {
    const response = await api('/orders', anna, { method: 'POST' });
    expect(response).toMatchObject({
      status: 400,
      body: { error: 'invalid_request', error_description: expect.stringMatching(/cart is empty/) },
    });
  });
});

describe('one customer cannot reach another’s data', () => {
  it('Anna gets 404 for Oleg’s order, its payments and his cart item; her lists do not show his', async () => {
    expect((await api(`/orders/${olegOrder}`, oleg)).status).toBe(200);
    expect((await api(`/orders/${olegOrder}`, anna)).status).toBe(404);
    expect((await api(`/orders/${olegOrder}/payments`, anna, { body: { method: 'demo-card', amount: 1 } })).status).toBe(404);
    expect((await api(`/cart/items/${olegCartItem}`, anna, { method: 'DELETE' })).status).toBe(404);
    expect((await api('/orders', anna)).body.orders).toEqual([]);
    expect((await api('/cart', anna)).body.items).toEqual([]);
    expect((await api('/me/activity', anna)).body.events).toEqual([]);
    // Oleg's item is still there, and his own delete works.
    expect((await api(`/cart/items/${olegCartItem}`, oleg, { method: 'DELETE' })).status).toBe(204);
  });
});

describe('CORS', () => {
  const preflight = (origin: string) =>
    fetch(`${orders.url}/orders`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });

  it('lets the storefront origin call with a Bearer token and JSON', async () => {
    const response = await preflight('http://localhost:4001');
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:4001');
    expect(response.headers.get('access-control-allow-headers')).toBe('Authorization, Content-Type');
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    const get = await api('/orders', oleg, { headers: { origin: 'http://localhost:4001' } });
    expect(get.headers.get('access-control-allow-origin')).toBe('http://localhost:4001');
    expect(get.headers.get('vary')).toMatch(/Origin/);
  });

  it('gives any other origin nothing', async () => {
    for (const origin of ['http://evil.example', 'http://localhost:4001.evil.example', 'null']) {
      const response = await preflight(origin);
      expect(response.status).toBe(403);
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      expect((await api('/orders', oleg, { headers: { origin } })).headers.get('access-control-allow-origin')).toBeNull();
    }
  });
});

/**
 * What each HTTP scenario sends, and the setup that makes it real (tokens,
 * re-authentications, orders), all over HTTP against the running processes.
 * Every setup checks one request of its scenario before the load starts.
 */
import { DEMO_PASSWORDS, ORDERS_API, PAYMENTS_AUDIENCE } from '../../src/server/seed/demo-data.js';
import { basic, customerToken, delegationBody, onBehalfBody, reauthenticate, staffToken, token } from './flows.js';
import type { LoadRequest } from './load.js';
import type { BenchCustomer } from './server.js';

const FORM = 'application/x-www-form-urlencoded';
const INTEGRATOR = basic('integrator-demo', 'integrator-demo-secret');
const STOREFRONT = basic('storefront-electronics', 'storefront-demo-secret');
const ORDERS_CLIENT = basic('orders-api', 'orders-api-demo-secret');

/** client_credentials for integrator-demo: an ES256 JWT for the orders API, with its audit record. */
export function setupBaseline(): LoadRequest {
  const body = new URLSearchParams({ grant_type: 'client_credentials', resource: ORDERS_API, scope: 'orders:read' }).toString();
  return { method: 'POST', path: '/token', headers: { 'content-type': FORM, authorization: INTEGRATOR }, bodies: [body] };
}

export interface PoolEntry {
  customer: string;
  actorToken: string;
}

/** Runs `work` over `items` with at most `width` at once. */
async function inBatches<T, R>(items: T[], width: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += width) out.push(...(await Promise.all(items.slice(i, i + width).map(work))));
  return out;
}

/**
 * `size` re-authentications of Sam Support, each for a different electronics
 * customer, through the real re-auth form. The first exchange with each must
 * follow within reauthMaxAge (300 s): it opens the on-behalf session.
 */
export async function reauthPool(issuer: string, customers: BenchCustomer[], size: number): Promise<PoolEntry[]> {
  if (customers.length < size) throw new Error(`bench: ${size} customers wanted for the re-auth pool, the seed has ${customers.length}`);
  return inBatches(customers.slice(0, size), 4, async ({ id }) => ({ customer: id, actorToken: await reauthenticate(issuer, id) }));
}

/** On-behalf token exchanges by storefront-electronics, round-robin over the pool. */
export function setupOnBehalf(entries: PoolEntry[]): LoadRequest {
  return {
    method: 'POST',
    path: '/token',
    headers: { 'content-type': FORM, authorization: STOREFRONT },
    bodies: entries.map((entry) => onBehalfBody(entry.customer, entry.actorToken)),
  };
}

/** Fresh on-behalf access tokens (JWTs for the orders API, 600 s) from the pool's sessions (opening any not yet open). */
export async function onBehalfJwts(issuer: string, entries: PoolEntry[]): Promise<{ tokens: string[]; expiresAt: number }> {
  const answers = await inBatches(entries, 4, (entry) =>
    token(issuer, 'storefront-electronics', 'storefront-demo-secret', onBehalfBody(entry.customer, entry.actorToken)),
  );
  const expiresAt = Date.now() + Math.min(...answers.map((answer) => Number(answer.expires_in))) * 1000;
  return { tokens: answers.map((answer) => String(answer.access_token)), expiresAt };
}

/** Delegation: orders-api exchanges customers' on-behalf tokens for the payments service (act nests orders-api over the agent). */
export async function setupDelegation(issuer: string, onBehalf: string[]): Promise<LoadRequest> {
  const bodies = onBehalf.map((subject) => delegationBody(subject, PAYMENTS_AUDIENCE));
  const check = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': FORM, authorization: ORDERS_CLIENT },
    body: bodies[0]!,
    signal: AbortSignal.timeout(15_000),
  });
  const answer = (await check.json()) as { access_token?: string; act?: unknown };
  if (check.status !== 200 || !answer.access_token) throw new Error(`delegation setup: ${check.status} ${JSON.stringify(answer)}`);
  const payload = JSON.parse(Buffer.from(answer.access_token.split('.')[1]!, 'base64url').toString('utf8')) as {
    aud?: unknown;
    act?: { sub?: string; act?: unknown };
  };
  if (payload.aud !== PAYMENTS_AUDIENCE || payload.act?.sub !== 'orders-api' || !payload.act.act)
    throw new Error(`delegation setup: unexpected token ${JSON.stringify(payload)}`);
  return { method: 'POST', path: '/token', headers: { 'content-type': FORM, authorization: ORDERS_CLIENT }, bodies };
}

/** Introspection of opaque client-credentials tokens (no resource, no default resource → opaque), as orders-api. */
export async function setupIntrospection(issuer: string): Promise<LoadRequest> {
  const body = new URLSearchParams({ grant_type: 'client_credentials' }).toString();
  const tokens = await inBatches(
    Array.from({ length: 64 }, (_, i) => i),
    8,
    async () => String((await token(issuer, 'orders-api', 'orders-api-demo-secret', body)).access_token),
  );
  if (tokens.some((value) => value.includes('.'))) throw new Error('expected opaque tokens from client_credentials without a resource');
  const check = await fetch(`${issuer}/token/introspection`, {
    method: 'POST',
    headers: { 'content-type': FORM, authorization: ORDERS_CLIENT },
    body: new URLSearchParams({ token: tokens[0]! }),
  });
  const answer = (await check.json()) as { active?: boolean };
  if (answer.active !== true) throw new Error(`introspection setup: ${check.status} ${JSON.stringify(answer)}`);
  return {
    method: 'POST',
    path: '/token/introspection',
    headers: { 'content-type': FORM, authorization: ORDERS_CLIENT },
    bodies: tokens.map((value) => new URLSearchParams({ token: value }).toString()),
  };
}

/**
 * Userinfo with customers' own opaque access tokens (storefront sign-in,
 * `openid profile email`, no resource: what oidc-provider's userinfo accepts),
 * round-robin over `count` customers.
 */
export async function setupUserinfo(issuer: string, customers: BenchCustomer[], count: number): Promise<LoadRequest> {
  const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(10_000) })).json()) as {
    userinfo_endpoint?: string;
  };
  if (!discovery.userinfo_endpoint) throw new Error('userinfo setup: discovery names no userinfo_endpoint');
  const path = new URL(discovery.userinfo_endpoint).pathname;
  const tokens = await inBatches(customers.slice(0, count), 4, ({ email }) => customerToken(issuer, email, DEMO_PASSWORDS.customer));
  if (tokens.some((value) => value.includes('.'))) throw new Error('userinfo setup: expected opaque access tokens');
  const authorizations = tokens.map((value) => `Bearer ${value}`);
  for (const [i, authorization] of authorizations.entries()) {
    const check = await fetch(`${issuer}${path}`, { headers: { authorization }, signal: AbortSignal.timeout(10_000) });
    const claims = (await check.json()) as { sub?: string; email?: string };
    if (check.status !== 200 || claims.sub !== customers[i]!.id)
      throw new Error(`userinfo setup: ${check.status} ${JSON.stringify(claims)}`);
  }
  return { method: 'GET', path, headers: {}, bodies: [], authorizations };
}

/** The portal's directory search for "Oleg" with a staff token holding directory:read. */
export async function setupDirectory(issuer: string): Promise<LoadRequest> {
  const bearer = `Bearer ${await staffToken(issuer)}`;
  const path = '/directory/contacts?q=Oleg';
  const check = await fetch(`${issuer}${path}`, { headers: { authorization: bearer } });
  if (check.status !== 200) throw new Error(`directory setup: ${check.status} ${await check.text()}`);
  return { method: 'GET', path, headers: { authorization: bearer }, bodies: [] };
}

const ORDERS_PER_CUSTOMER = 3;

async function ordersCall(
  base: string,
  path: string,
  bearer: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${base}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: bearer, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(15_000),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/**
 * The orders API (its own process): each pool customer gets a few orders,
 * placed on behalf through the API itself; the load lists them
 * (`GET /orders`) with the customers' on-behalf JWTs, round-robin.
 */
export async function setupOrdersApi(ordersUrl: string, onBehalf: string[]): Promise<LoadRequest> {
  const authorizations = onBehalf.map((value) => `Bearer ${value}`);
  const products = await ordersCall(ordersUrl, '/products', authorizations[0]!);
  const list = products.json.products as { id: string }[] | undefined;
  if (products.status !== 200 || !list?.length)
    throw new Error(`orders-api setup: GET /products ${products.status} ${JSON.stringify(products.json)}`);
  await inBatches(authorizations, 4, async (bearer) => {
    for (let i = 0; i < ORDERS_PER_CUSTOMER; i += 1) {
      const added = await ordersCall(ordersUrl, '/cart/items', bearer, { productId: list[i % list.length]!.id, quantity: 1 + i });
      if (added.status !== 201 && added.status !== 200)
        throw new Error(`orders-api setup: POST /cart/items ${added.status} ${JSON.stringify(added.json)}`);
      const placed = await ordersCall(ordersUrl, '/orders', bearer, {});
      if (placed.status !== 201) throw new Error(`orders-api setup: POST /orders ${placed.status} ${JSON.stringify(placed.json)}`);
    }
  });
  const check = await ordersCall(ordersUrl, '/orders', authorizations[0]!);
  if (check.status !== 200 || (check.json.orders as unknown[] | undefined)?.length !== ORDERS_PER_CUSTOMER)
    throw new Error(`orders-api setup: GET /orders ${check.status} ${JSON.stringify(check.json)}`);
  return { method: 'GET', path: '/orders', headers: {}, bodies: [], authorizations };
}

/** What each HTTP scenario sends, and the setup that makes it real (tokens, re-authentications). */
import { DEMO_CUSTOMERS, generatedContacts, ORDERS_API } from '../../src/server/seed/demo-data.js';
import { basic, onBehalfBody, reauthenticate, staffToken, token } from './flows.js';
import type { LoadRequest } from './load.js';
import type { BenchServer } from './server.js';

const POOL = Math.max(1, Math.min(64, Number(process.env.BENCH_POOL ?? 16)));
const FORM = 'application/x-www-form-urlencoded';
const INTEGRATOR = basic('integrator-demo', 'integrator-demo-secret');

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

/** POOL re-authentications of Sam Support, each for a different electronics customer, through the real re-auth form. */
export async function setupImpersonation(server: BenchServer): Promise<{ entries: PoolEntry[]; request: LoadRequest }> {
  const store = await server.behalf.stores.findBySlug('electronics');
  const emails = [...DEMO_CUSTOMERS, ...generatedContacts()].filter((person) => person.stores.includes('electronics')).map((person) => person.email).slice(0, POOL);
  const customers = await Promise.all(emails.map(async (email) => (await server.behalf.accounts.findByUsername(store!.id, email))!.id));
  const entries = await inBatches(customers, 4, async (customer) => ({ customer, actorToken: await reauthenticate(server.issuer, customer) }));
  return {
    entries,
    request: {
      method: 'POST',
      path: '/token',
      headers: { 'content-type': FORM, authorization: basic('storefront-electronics', 'storefront-demo-secret') },
      bodies: entries.map((entry) => onBehalfBody(entry.customer, entry.actorToken)),
    },
  };
}

/** On-behalf access tokens (JWTs for the orders API) from the pool's sessions, for kit-verify. */
export async function onBehalfJwts(server: BenchServer, entries: PoolEntry[]): Promise<string[]> {
  return inBatches(entries, 4, async (entry) => String((await token(server.issuer, 'storefront-electronics', 'storefront-demo-secret', onBehalfBody(entry.customer, entry.actorToken))).access_token));
}

/** Introspection of opaque client-credentials tokens (no resource → opaque), as integrator-demo. */
export async function setupIntrospection(server: BenchServer): Promise<LoadRequest> {
  const body = new URLSearchParams({ grant_type: 'client_credentials' }).toString();
  const tokens = await inBatches(Array.from({ length: 64 }, (_, i) => i), 8, async () => String((await token(server.issuer, 'integrator-demo', 'integrator-demo-secret', body)).access_token));
  if (tokens.some((value) => value.includes('.'))) throw new Error('expected opaque tokens from client_credentials without a resource');
  const check = await fetch(`${server.issuer}/token/introspection`, { method: 'POST', headers: { 'content-type': FORM, authorization: INTEGRATOR }, body: new URLSearchParams({ token: tokens[0]! }) });
  const answer = (await check.json()) as { active?: boolean };
  if (answer.active !== true) throw new Error(`introspection setup: ${check.status} ${JSON.stringify(answer)}`);
  return { method: 'POST', path: '/token/introspection', headers: { 'content-type': FORM, authorization: INTEGRATOR }, bodies: tokens.map((value) => new URLSearchParams({ token: value }).toString()) };
}

/** The portal's directory search for "Oleg" with a staff token holding directory:read. */
export async function setupDirectory(server: BenchServer): Promise<LoadRequest> {
  const bearer = `Bearer ${await staffToken(server.issuer)}`;
  const path = '/directory/contacts?q=Oleg';
  const check = await fetch(`${server.issuer}${path}`, { headers: { authorization: bearer } });
  if (check.status !== 200) throw new Error(`directory setup: ${check.status} ${await check.text()}`);
  return { method: 'GET', path, headers: { authorization: bearer }, bodies: [] };
}

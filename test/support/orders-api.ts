/**
 * The demo Orders API in-process against a running Behalf: its own fresh
 * database, a real port, and customers' tokens for it from Behalf's real
 * sign-in form (authorization code + PKCE with `resource`).
 */
import * as client from 'openid-client';
import { createOrdersApi, type OrdersApi, type OrdersApiOptions } from '../../src/demo/orders-api/app.js';
import type { RunningBehalf } from './behalf.js';
import { HttpBrowser } from './browser.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { authorizationFor } from './dpop.js';
import { readJson, type JsonResponse } from './oauth.js';
import { storefront } from './on-behalf.js';

export const ORDERS_API = 'http://localhost:4003';
export const CUSTOMER_PASSWORD = 'Customer-Demo-2026';

export interface RunningOrdersApi {
  api: OrdersApi;
  url: string;
  database: TestDatabase;
  /** Every unexpected (500) error the API hit: tests expect none. */
  errors: unknown[];
  stop(): Promise<void>;
}

export async function startOrdersApi(running: RunningBehalf, options: Partial<OrdersApiOptions> = {}): Promise<RunningOrdersApi> {
  const database = await createTestDatabase();
  const errors: unknown[] = [];
  const api = await createOrdersApi({
    issuer: running.issuer,
    databaseUrl: database.url,
    onError: (error) => errors.push(error),
    ...options,
  });
  const { url } = await api.listen(0);
  return {
    api,
    url,
    database,
    errors,
    async stop() {
      await api.close();
      await database.drop();
    },
  };
}

/** A customer's own JWT for the orders API, through the storefront's code flow. */
export async function customerToken(
  running: RunningBehalf,
  email: string,
  options: { store?: string; scope?: string; password?: string } = {},
): Promise<string> {
  const store = options.store ?? 'electronics';
  const config = await storefront(running, store);
  const redirectUri = `http://localhost:4001/${store}/callback`;
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: options.scope ?? 'openid orders:read orders:write',
    resource: ORDERS_API,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  const browser = new HttpBrowser(running.issuer);
  const callback = await browser.submit(await browser.follow(url.toString()), '/login', {
    email,
    password: options.password ?? CUSTOMER_PASSWORD,
  });
  if (!callback.url.startsWith(redirectUri))
    throw new Error(`sign-in ended at ${callback.url} (${callback.status}): ${callback.html.slice(0, 500)}`);
  const tokens = await client.authorizationCodeGrant(
    config,
    new URL(callback.url),
    { pkceCodeVerifier: verifier, expectedState: state },
    { resource: ORDERS_API },
  );
  return tokens.access_token;
}

/** One call to the API with a Bearer token (or a DPoP-bound on-behalf one with its proof); a plain object body is sent as JSON. */
export async function call(
  base: string,
  path: string,
  token: string | undefined,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<JsonResponse> {
  let body: string | undefined;
  if (typeof init.body === 'string') body = init.body;
  else if (init.body !== undefined) body = JSON.stringify(init.body);
  const method = init.method ?? (body === undefined ? 'GET' : 'POST');
  const headers: Record<string, string> = {
    ...(token ? await authorizationFor(token, method, `${base}${path}`) : {}),
    ...(body !== undefined && typeof init.body !== 'string' ? { 'content-type': 'application/json' } : {}),
    ...init.headers,
  };
  return readJson(
    await fetch(`${base}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
    }),
  );
}

/**
 * Drives login on behalf the way a storefront does: the re-authentication pushed (RFC 9126), the re-auth
 * screen, the code flow, then the exchange with a DPoP proof (RFC 9449), as the demo storefront clients require.
 */
import * as client from 'openid-client';
import type { RunningBehalf } from './behalf.js';
import { HttpBrowser, type Page } from './browser.js';
import { storefrontTokenProof } from './dpop.js';
import { basic, postForm, type JsonResponse } from './oauth.js';

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCOUNT_ID = 'urn:behalf:params:oauth:token-type:account_id';
export const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
export const ID_TOKEN = 'urn:ietf:params:oauth:token-type:id_token';

/** Where requests go: an in-process Behalf, or `{ issuer: url }` for one instance of several sharing an issuer. */
export type Endpoint = Pick<RunningBehalf, 'issuer'>;

export async function customerId(running: RunningBehalf, store: string, email: string): Promise<string> {
  const found = await running.behalf.stores.findBySlug(store);
  return (await running.behalf.accounts.findByUsername(found!.id, email))!.id;
}

export async function staffId(running: RunningBehalf, email: string): Promise<string> {
  return (await running.behalf.accounts.findByUsername(null, email))!.id;
}

export interface ReauthOptions {
  store?: string;
  customer: string;
  email?: string;
  password?: string;
  reason?: string;
  ticket?: string;
}

export async function storefront(running: Endpoint, store = 'electronics') {
  return client.discovery(new URL(running.issuer), `storefront-${store}`, 'storefront-demo-secret', undefined, {
    execute: [client.allowInsecureRequests],
  });
}

/**
 * Opens the re-auth screen for a customer; returns the page and what completes the flow. The request is
 * pushed (PAR) unless `plain` (a request the demo clients refuse once its parameters are valid).
 */
export async function openReauth(
  running: Endpoint,
  options: { store?: string; customer: string; browser?: HttpBrowser; extra?: Record<string, string>; plain?: boolean },
) {
  const store = options.store ?? 'electronics';
  const config = await storefront(running, store);
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const build = options.plain
    ? async (...args: Parameters<typeof client.buildAuthorizationUrl>) => client.buildAuthorizationUrl(...args)
    : client.buildAuthorizationUrlWithPAR;
  const url = await build(config, {
    redirect_uri: `http://localhost:4001/${store}/callback`,
    scope: 'openid',
    prompt: 'login',
    on_behalf_of: options.customer,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    ...options.extra,
  });
  const browser = options.browser ?? new HttpBrowser(running.issuer);
  const page = await browser.follow(url.toString());
  return { page, browser, config, verifier, state };
}

/** The whole re-authentication; returns the agent's access token (the actor token). */
export async function reauthenticate(running: Endpoint, options: ReauthOptions): Promise<{ actorToken: string; page: Page }> {
  const { page, browser, config, verifier, state } = await openReauth(running, options);
  const done = await browser.submit(page, '/reauth', {
    email: options.email ?? 'support@example.com',
    password: options.password ?? 'Support-Demo-2026',
    reason: options.reason ?? 'Customer cannot complete checkout',
    ...(options.ticket ? { ticket: options.ticket } : {}),
  });
  if (!done.url.includes('/callback'))
    throw new Error(`re-authentication ended at ${done.url} (${done.status}): ${done.html.slice(0, 800)}`);
  const tokens = await client.authorizationCodeGrant(config, new URL(done.url), { pkceCodeVerifier: verifier, expectedState: state });
  return { actorToken: tokens.access_token, page: done };
}

/**
 * A token exchange by a storefront client. A login-on-behalf exchange carries a DPoP proof of the
 * storefront's test key (support/dpop.ts) unless `dpop` is false; `dpop` may also be a proof of one's own.
 */
export async function exchange(
  running: Endpoint,
  params: Record<string, string | string[]>,
  store = 'electronics',
  secret = 'storefront-demo-secret',
  options: { dpop?: string | false } = {},
): Promise<JsonResponse> {
  const body = new URLSearchParams({ grant_type: TOKEN_EXCHANGE });
  for (const [key, value] of Object.entries(params)) for (const item of Array.isArray(value) ? value : [value]) body.append(key, item);
  const endpoint = `${running.issuer}/token`;
  const proof = options.dpop ?? (params.subject_token_type === ACCOUNT_ID ? await storefrontTokenProof(endpoint) : undefined);
  return postForm(endpoint, body, { authorization: basic(`storefront-${store}`, secret), ...(proof ? { dpop: proof } : {}) });
}

export function onBehalfParams(
  customer: string,
  actorToken: string,
  extra: Record<string, string | string[]> = {},
): Record<string, string | string[]> {
  return { subject_token: customer, subject_token_type: ACCOUNT_ID, actor_token: actorToken, actor_token_type: ACCESS_TOKEN, ...extra };
}

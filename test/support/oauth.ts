/**
 * Small raw-HTTP helpers for protocol tests that need to see the exact status,
 * headers and JSON body (openid-client hides those behind exceptions), plus a
 * sign-in through Behalf's real form for tests that need an ID token.
 */
import * as client from 'openid-client';
import { HttpBrowser } from './browser.js';

export interface JsonResponse {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  text: string;
}

export function basic(clientId: string, secret: string): string {
  // RFC 6749 §2.3.1: form-urlencode both parts before base64.
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(secret)}`).toString('base64')}`;
}

export async function postForm(url: string, body: string | URLSearchParams, headers: Record<string, string> = {}): Promise<JsonResponse> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: body.toString(),
    redirect: 'manual',
  });
  return readJson(response);
}

export async function readJson(response: Response): Promise<JsonResponse> {
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON: the caller looks at `text`
  }
  return { status: response.status, headers: response.headers, body, text };
}

/** A token request authenticated with client_secret_basic. */
/** A token request authenticated with client_secret_basic; `repeated` adds parameters given more than once. */
export function tokenRequest(
  issuer: string,
  clientId: string,
  secret: string,
  params: Record<string, string>,
  repeated: [string, string][] = [],
): Promise<JsonResponse> {
  const body = new URLSearchParams(params);
  for (const [key, value] of repeated) body.append(key, value);
  return postForm(`${issuer}/token`, body, { authorization: basic(clientId, secret) });
}

export function discover(issuer: string, clientId: string, secret: string): Promise<client.Configuration> {
  return client.discovery(new URL(issuer), clientId, secret, undefined, { execute: [client.allowInsecureRequests] });
}

/** Authorization code + PKCE through Behalf's sign-in form; returns the token response. */
export async function codeFlowTokens(
  issuer: string,
  clientId: string,
  secret: string,
  redirectUri: string,
  email: string,
  password: string,
  scope = 'openid profile',
) {
  const config = await discover(issuer, clientId, secret);
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  const browser = new HttpBrowser(issuer);
  const loginPage = await browser.follow(url.toString());
  const callback = await browser.submit(loginPage, '/login', { email, password });
  if (!callback.url.startsWith(redirectUri))
    throw new Error(`sign-in ended at ${callback.url} (${callback.status}): ${callback.html.slice(0, 500)}`);
  return client.authorizationCodeGrant(config, new URL(callback.url), { pkceCodeVerifier: verifier, expectedState: state });
}

/** Behalf's sign-in page for the portal client, as a browser reaches it (authorization request with PKCE). */
export async function portalLoginPage(issuer: string, browser: HttpBrowser) {
  const config = await client.discovery(new URL(issuer), 'portal', 'portal-demo-secret', undefined, {
    execute: [client.allowInsecureRequests],
  });
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: 'http://localhost:4002/callback',
    scope: 'openid',
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
  });
  return browser.follow(url.toString());
}

/**
 * Guesses at the viewer's portal password until the per-account sign-in limit
 * (3 per window in the tests' configuration) refuses even the right one:
 * returns that refusal.
 */
export async function guessPastSignInLimit(issuer: string) {
  const browser = new HttpBrowser(issuer);
  let page = await portalLoginPage(issuer, browser);
  for (let i = 0; i < 3; i += 1)
    page = await browser.submit(page, '/login', { email: 'viewer@example.com', password: `guess-number-${i}` });
  expect(page.status).toBe(200);
  return browser.submit(page, '/login', { email: 'viewer@example.com', password: 'Support-Demo-2026' });
}

/** A customer's own tokens from their store's client (code flow through Behalf's sign-in form). */
export function customerTokens(issuer: string, email = 'oleg@example.com', store = 'electronics') {
  return codeFlowTokens(
    issuer,
    `storefront-${store}`,
    'storefront-demo-secret',
    `http://localhost:4001/${store}/callback`,
    email,
    'Customer-Demo-2026',
  );
}

/**
 * Real OAuth flows over HTTP for the bench's setup (small copies of the test
 * helpers, which depend on jest's world): a cookie-keeping form "browser", an
 * agent's re-authentication through the re-auth screen, a staff sign-in
 * through the portal client, and token requests.
 */
import * as client from 'openid-client';

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCOUNT_ID = 'urn:behalf:params:oauth:token-type:account_id';
export const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
export const SUPPORT = { email: 'support@example.com', password: 'Support-Demo-2026' };

export function basic(clientId: string, secret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(secret)}`).toString('base64')}`;
}

interface Page {
  url: string;
  status: number;
  html: string;
}

const decodeHtml = (value: string) =>
  value
    .replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>');

class FormBrowser {
  private readonly cookies = new Map<string, string>();

  constructor(private readonly origin: string) {}

  private async request(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const own = url.startsWith(this.origin);
    if (own) headers.set('cookie', [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; '));
    const response = await fetch(url, { ...init, headers, redirect: 'manual', signal: AbortSignal.timeout(15_000) });
    if (own) {
      for (const line of response.headers.getSetCookie()) {
        const [pair] = line.split(';');
        const index = pair!.indexOf('=');
        const name = pair!.slice(0, index).trim();
        const value = pair!.slice(index + 1).trim();
        if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') this.cookies.delete(name);
        else this.cookies.set(name, value);
      }
    }
    return response;
  }

  async follow(url: string, init: RequestInit = {}): Promise<Page> {
    let response = await this.request(url, init);
    let current = url;
    for (let hops = 0; hops < 10 && response.status >= 300 && response.status < 400; hops += 1) {
      current = new URL(response.headers.get('location')!, current).toString();
      if (!current.startsWith(this.origin)) return { url: current, status: response.status, html: '' };
      response = await this.request(current);
    }
    return { url: current, status: response.status, html: await response.text() };
  }

  async submit(page: Page, actionPart: string, fields: Record<string, string>): Promise<Page> {
    const form = [...page.html.matchAll(/<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)].find((match) =>
      match[1]!.includes(actionPart),
    );
    if (!form) throw new Error(`no form with action containing ${actionPart} on ${page.url} (${page.status})`);
    const body = new URLSearchParams();
    for (const hidden of form[2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g))
      body.set(hidden[1]!, decodeHtml(hidden[2]!));
    for (const [name, value] of Object.entries(fields)) body.set(name, value);
    return this.follow(new URL(decodeHtml(form[1]!), page.url).toString(), {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
  }
}

function discover(issuer: string, clientId: string, secret: string) {
  return client.discovery(new URL(issuer), clientId, secret, undefined, { execute: [client.allowInsecureRequests] });
}

/** Authorization code + PKCE through one of Behalf's forms; returns the access token. */
async function codeFlow(
  issuer: string,
  clientId: string,
  secret: string,
  redirectUri: string,
  params: Record<string, string>,
  action: string,
  fields: Record<string, string>,
): Promise<string> {
  const config = await discover(issuer, clientId, secret);
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    ...params,
  });
  const browser = new FormBrowser(issuer);
  const page = await browser.follow(url.toString());
  const done = await browser.submit(page, action, fields);
  if (!done.url.startsWith(redirectUri)) throw new Error(`${action} ended at ${done.url} (${done.status}): ${done.html.slice(0, 300)}`);
  return (await client.authorizationCodeGrant(config, new URL(done.url), { pkceCodeVerifier: verifier, expectedState: state }))
    .access_token;
}

/** Sam Support re-authenticates through the real re-auth screen to act for `customer`; returns the actor token. */
export function reauthenticate(issuer: string, customer: string, store = 'electronics'): Promise<string> {
  return codeFlow(
    issuer,
    `storefront-${store}`,
    'storefront-demo-secret',
    `http://localhost:4001/${store}/callback`,
    { scope: 'openid', prompt: 'login', on_behalf_of: customer },
    '/reauth',
    { ...SUPPORT, reason: 'Bench: customer cannot complete checkout' },
  );
}

/** A customer's own access token through the storefront's sign-in form (no resource: an opaque token for userinfo). */
export function customerToken(
  issuer: string,
  email: string,
  password: string,
  store = 'electronics',
  scope = 'openid profile email',
): Promise<string> {
  return codeFlow(issuer, `storefront-${store}`, 'storefront-demo-secret', `http://localhost:4001/${store}/callback`, { scope }, '/login', {
    email,
    password,
  });
}

/** A staff access token through the portal client (Sam Support, directory:read). */
export function staffToken(issuer: string, scope = 'openid profile email directory:read'): Promise<string> {
  return codeFlow(issuer, 'portal', 'portal-demo-secret', 'http://localhost:4002/callback', { scope }, '/login', SUPPORT);
}

/** RFC 8693 delegation: the exchange of an access token the requesting client may act on, for `resource`. */
export function delegationBody(subjectToken: string, resource: string): string {
  return new URLSearchParams({
    grant_type: TOKEN_EXCHANGE,
    subject_token: subjectToken,
    subject_token_type: ACCESS_TOKEN,
    resource,
  }).toString();
}

export function onBehalfBody(customer: string, actorToken: string): string {
  return new URLSearchParams({
    grant_type: TOKEN_EXCHANGE,
    subject_token: customer,
    subject_token_type: ACCOUNT_ID,
    actor_token: actorToken,
    actor_token_type: ACCESS_TOKEN,
  }).toString();
}

/** One token request; throws unless 200. */
export async function token(issuer: string, clientId: string, secret: string, body: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(clientId, secret) },
    body,
    signal: AbortSignal.timeout(15_000),
  });
  const json = (await response.json()) as Record<string, unknown>;
  if (response.status !== 200) throw new Error(`token request for ${clientId} refused (${response.status}): ${JSON.stringify(json)}`);
  return json;
}

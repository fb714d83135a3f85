/**
 * Bad input never makes a 500: OAuth endpoints answer with the RFC 6749 JSON
 * error, browser endpoints with an HTML error page that does not redirect to
 * an unverified place. Plus the operations endpoints and the headers every
 * response carries.
 */
import { startBehalf, type RunningBehalf } from '../support/behalf.js';
import { HttpBrowser, type Page } from '../support/browser.js';
import { basic, postForm, readJson, tokenRequest, type JsonResponse } from '../support/oauth.js';

let running: RunningBehalf;

beforeAll(async () => {
  running = await startBehalf();
});
afterAll(async () => {
  await running?.stop();
});

const PORTAL_REDIRECT = 'http://localhost:4002/callback';
const S256_CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

function authorizeUrl(params: Record<string, string> | string): string {
  const query =
    typeof params === 'string'
      ? params
      : new URLSearchParams({
          client_id: 'portal',
          response_type: 'code',
          redirect_uri: PORTAL_REDIRECT,
          scope: 'openid',
          code_challenge: S256_CHALLENGE,
          code_challenge_method: 'S256',
          ...params,
        }).toString();
  return `${running.issuer}/auth?${query}`;
}

function expectOAuthError(response: JsonResponse, status: number, error: string) {
  expect({ status: response.status, error: response.body.error }).toEqual({ status, error });
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expect(typeof response.body.error_description).toBe('string');
}

async function expectErrorPage(response: Response, status: number, text?: string | RegExp): Promise<string> {
  const html = await response.text();
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^text\/html/);
  expect(response.headers.get('location')).toBeNull();
  expect(html).toContain('<!doctype html>');
  if (text) expect(html).toMatch(text);
  return html;
}

/** A fresh sign-in page for the portal, with its interaction cookies in `browser`. */
async function loginPage(browser: HttpBrowser): Promise<Page> {
  const page = await browser.follow(authorizeUrl({}));
  expect(page.status).toBe(200);
  expect(page.url).toMatch(/\/interaction\/[A-Za-z0-9_-]+$/);
  return page;
}

function csrfOf(page: Page): string {
  const match = /name="csrf" value="([^"]+)"/.exec(page.html);
  if (!match) throw new Error('no csrf field on the page');
  return match[1]!;
}

describe('token endpoint', () => {
  it('refuses an unknown client (Basic) with invalid_client 401', async () => {
    const response = await tokenRequest(running.issuer, 'no-such-client', 'whatever', { grant_type: 'client_credentials' });
    expectOAuthError(response, 401, 'invalid_client');
  });

  it('refuses an unknown client id in the body with invalid_client', async () => {
    const response = await postForm(
      `${running.issuer}/token`,
      new URLSearchParams({ grant_type: 'client_credentials', client_id: 'no-such-client', client_secret: 'x' }),
    );
    expectOAuthError(response, 401, 'invalid_client');
  });

  it('refuses a wrong client secret with invalid_client 401', async () => {
    const response = await tokenRequest(running.issuer, 'integrator-demo', 'not-the-secret', { grant_type: 'client_credentials' });
    expectOAuthError(response, 401, 'invalid_client');
  });

  it('refuses a missing grant_type with invalid_request', async () => {
    const response = await tokenRequest(running.issuer, 'integrator-demo', 'integrator-demo-secret', { scope: 'orders:read' });
    expectOAuthError(response, 400, 'invalid_request');
    expect(response.body.error_description).toMatch(/grant_type/);
  });

  it('refuses an unknown grant type with unsupported_grant_type', async () => {
    const response = await tokenRequest(running.issuer, 'integrator-demo', 'integrator-demo-secret', { grant_type: 'urn:example:made-up' });
    expectOAuthError(response, 400, 'unsupported_grant_type');
  });

  it('refuses a grant type the client is not registered for with unauthorized_client', async () => {
    const response = await tokenRequest(running.issuer, 'integrator-demo', 'integrator-demo-secret', {
      grant_type: 'authorization_code',
      code: 'x',
      redirect_uri: PORTAL_REDIRECT,
    });
    expectOAuthError(response, 400, 'unauthorized_client');
  });

  it('refuses grant_type given twice with invalid_request', async () => {
    const response = await postForm(`${running.issuer}/token`, 'grant_type=client_credentials&grant_type=client_credentials', {
      authorization: basic('integrator-demo', 'integrator-demo-secret'),
    });
    expectOAuthError(response, 400, 'invalid_request');
    expect(response.body.error_description).toMatch(/grant_type/);
  });

  it('refuses client_id given twice with invalid_request', async () => {
    const response = await postForm(
      `${running.issuer}/token`,
      'grant_type=client_credentials&client_id=integrator-demo&client_id=integrator-demo&client_secret=integrator-demo-secret',
    );
    expectOAuthError(response, 400, 'invalid_request');
    expect(response.body.error_description).toMatch(/client_id/);
  });

  it('refuses a JSON body with invalid_request, not a 500', async () => {
    const response = await readJson(
      await fetch(`${running.issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: basic('integrator-demo', 'integrator-demo-secret') },
        body: JSON.stringify({ grant_type: 'client_credentials' }),
      }),
    );
    expectOAuthError(response, 400, 'invalid_request');
  });

  it('refuses a 2 MB body with 413 or 400, not a 500', async () => {
    const body = `grant_type=client_credentials&scope=${'a'.repeat(2 * 1024 * 1024)}`;
    const response = await postForm(`${running.issuer}/token`, body, { authorization: basic('integrator-demo', 'integrator-demo-secret') });
    expect([400, 413]).toContain(response.status);
    expect(response.body.error).toBe('invalid_request');
  });

  it('treats a code, refresh token or client id with a NUL character as unknown, not a 500', async () => {
    const auth = { authorization: basic('portal', 'portal-demo-secret') };
    const code = await postForm(
      `${running.issuer}/token`,
      `grant_type=authorization_code&code=abc%00def&redirect_uri=${encodeURIComponent(PORTAL_REDIRECT)}&code_verifier=${'a'.repeat(43)}`,
      auth,
    );
    expectOAuthError(code, 400, 'invalid_grant');
    const refresh = await postForm(`${running.issuer}/token`, 'grant_type=refresh_token&refresh_token=%00', auth);
    expectOAuthError(refresh, 400, 'invalid_grant');
    const client = await postForm(`${running.issuer}/token`, 'grant_type=client_credentials&client_id=integrator%00demo&client_secret=x');
    expectOAuthError(client, 401, 'invalid_client');
    // In the Authorization header oidc-provider refuses the encoding itself.
    const header = await tokenRequest(running.issuer, 'integrator\u0000demo', 'x', { grant_type: 'client_credentials' });
    expectOAuthError(header, 400, 'invalid_request');
  });

  it('answers introspection and revocation of a token with a NUL character without a 500', async () => {
    const auth = { authorization: basic('integrator-demo', 'integrator-demo-secret') };
    const introspection = await postForm(`${running.issuer}/token/introspection`, 'token=abc%00', auth);
    expect(introspection.status).toBe(200);
    expect(introspection.body).toEqual({ active: false });
    const revocation = await postForm(`${running.issuer}/token/revocation`, 'token=abc%00', auth);
    expect(revocation.status).toBe(200);
  });
});

describe('authorization endpoint (browser)', () => {
  it('shows an error page for an unknown client_id', async () => {
    const response = await fetch(authorizeUrl({ client_id: 'no-such-client' }), { redirect: 'manual' });
    await expectErrorPage(response, 400, /invalid_client/);
  });

  it('shows an error page for a client_id with a NUL character', async () => {
    const response = await fetch(authorizeUrl({ client_id: 'portal\u0000' }), { redirect: 'manual' });
    await expectErrorPage(response, 400, /invalid_client/);
  });

  it('never redirects to an unregistered redirect_uri', async () => {
    const response = await fetch(authorizeUrl({ redirect_uri: 'https://attacker.example/callback' }), { redirect: 'manual' });
    const html = await expectErrorPage(response, 400, /redirect_uri/);
    expect(html).not.toContain('attacker.example');
  });

  it('shows an error page when client_id is given twice', async () => {
    const response = await fetch(
      authorizeUrl(`client_id=portal&client_id=portal&response_type=code&redirect_uri=${encodeURIComponent(PORTAL_REDIRECT)}&scope=openid`),
      { redirect: 'manual' },
    );
    await expectErrorPage(response, 400, /invalid_request/);
  });

  it('returns invalid_request to the client for other duplicated parameters', async () => {
    const response = await fetch(`${authorizeUrl({})}&scope=openid`, { redirect: 'manual' });
    expect(response.status).toBe(303);
    const location = new URL(response.headers.get('location')!);
    expect(location.origin + location.pathname).toBe(PORTAL_REDIRECT);
    expect(location.searchParams.get('error')).toBe('invalid_request');
  });

  it('returns an error to the client, not a 500, for a NUL character in state or nonce', async () => {
    for (const param of ['state', 'nonce']) {
      const response = await fetch(authorizeUrl({ [param]: 'abc\u0000def' }), { redirect: 'manual' });
      expect(response.status).toBe(303);
      const location = new URL(response.headers.get('location')!);
      expect(location.origin + location.pathname).toBe(PORTAL_REDIRECT);
      expect(location.searchParams.get('error')).toBe('invalid_request');
    }
  });
});

describe('end-session endpoint (browser)', () => {
  const browserAccept = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

  it('shows an error page with the usual headers, not a 500, for a NUL character in state', async () => {
    // The state is kept in the browser session, which oidc-provider saves after its own error handler.
    const response = await fetch(`${running.issuer}/session/end?client_id=portal&state=abc%00def`, {
      redirect: 'manual',
      headers: browserAccept,
    });
    expect(response.headers.get('x-request-id')).toBeTruthy();
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    await expectErrorPage(response, 400, /invalid_request/);

    const json = await readJson(await fetch(`${running.issuer}/session/end?client_id=portal&state=abc%00def`, { redirect: 'manual' }));
    expectOAuthError(json, 400, 'invalid_request');
    expect(json.headers.get('x-request-id')).toBeTruthy();
  });

  it('shows an error page for an unregistered post_logout_redirect_uri', async () => {
    const response = await fetch(
      `${running.issuer}/session/end?client_id=portal&post_logout_redirect_uri=${encodeURIComponent('https://attacker.example/')}`,
      { redirect: 'manual', headers: browserAccept },
    );
    const html = await expectErrorPage(response, 400, /post_logout_redirect_uri/);
    expect(html).not.toContain('attacker.example');
  });
});

describe('interaction pages', () => {
  it('shows "This sign-in request has expired" (400) for an unknown uid', async () => {
    await expectErrorPage(await fetch(`${running.issuer}/interaction/unknown-uid`), 400, /This sign-in request has expired/);
    const post = await fetch(`${running.issuer}/interaction/unknown-uid/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'email=a%40b.c&password=x&csrf=x',
    });
    await expectErrorPage(post, 400, /This sign-in request has expired/);
  });

  it("shows the expired page for another interaction's uid in this browser", async () => {
    const browser = new HttpBrowser(running.issuer);
    await loginPage(browser);
    const other = await loginPage(new HttpBrowser(running.issuer));
    await expectErrorPage(await browser.request(other.url), 400, /This sign-in request has expired/);
  });

  it('refuses a login POST without a CSRF token (403 page)', async () => {
    const browser = new HttpBrowser(running.issuer);
    const page = await loginPage(browser);
    const response = await browser.request(`${page.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email: 'support@example.com', password: 'Support-Demo-2026' }),
    });
    await expectErrorPage(response, 403, /This form has expired/);
  });

  it('refuses a login POST with a wrong CSRF token (403 page)', async () => {
    const browser = new HttpBrowser(running.issuer);
    const page = await loginPage(browser);
    const other = await loginPage(new HttpBrowser(running.issuer));
    for (const csrf of ['forged', csrfOf(other)]) {
      const response = await browser.request(`${page.url}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ email: 'support@example.com', password: 'Support-Demo-2026', csrf }),
      });
      await expectErrorPage(response, 403, /This form has expired/);
    }
    // The page's own token still works: the refusals above were about the token.
    const ok = await browser.submit(page, '/login', { email: 'support@example.com', password: 'Support-Demo-2026' });
    expect(ok.url.startsWith(PORTAL_REDIRECT)).toBe(true);
  });

  it('refuses a JSON login with a 415 page', async () => {
    const browser = new HttpBrowser(running.issuer);
    const page = await loginPage(browser);
    const response = await browser.request(`${page.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'support@example.com', password: 'Support-Demo-2026', csrf: csrfOf(page) }),
    });
    await expectErrorPage(response, 415, /Unsupported form/);
  });

  it('refuses a 2 MB login form with an HTML error page, not a 500', async () => {
    const browser = new HttpBrowser(running.issuer);
    const page = await loginPage(browser);
    const response = await browser.request(`${page.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email: 'support@example.com', password: 'x'.repeat(2 * 1024 * 1024), csrf: csrfOf(page) }),
    });
    await expectErrorPage(response, 413);
  });

  it('refuses a malformed login form body with an HTML error page, not a 500', async () => {
    const browser = new HttpBrowser(running.issuer);
    const page = await loginPage(browser);
    const response = await browser.request(`${page.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'gzip' },
      body: 'this is not gzip',
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
  });

  it('answers a sign-in with a NUL character in the email like any wrong sign-in, not a 500', async () => {
    const browser = new HttpBrowser(running.issuer);
    const page = await loginPage(browser);
    const result = await browser.submit(page, '/login', { email: 'support@example.com\u0000', password: 'Support-Demo-2026' });
    expect(result.status).toBe(200);
    expect(result.html).toContain('Invalid email or password');
  });
});

describe('operations endpoints', () => {
  it('/healthz answers 200', async () => {
    const response = await fetch(`${running.issuer}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('/readyz answers 200 with the database ok', async () => {
    const response = await fetch(`${running.issuer}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok', database: 'ok' });
  });

  it('/metrics exposes behalf_http_requests_total', async () => {
    await fetch(`${running.issuer}/healthz`);
    const response = await fetch(`${running.issuer}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(text).toContain('# TYPE behalf_http_requests_total counter');
    expect(text).toMatch(/behalf_http_requests_total\{method="GET",route="\/healthz",status="200"\} [1-9]/);
    // How long the oldest committed audit event has waited for the sequencer (a number; 0 when none is pending).
    expect(text).toMatch(/^behalf_audit_oldest_pending_seconds \d+(\.\d+)?(e[-+]?\d+)?$/m);
  });
});

describe('headers on every response', () => {
  const requests: [string, () => Promise<Response>][] = [
    ['discovery', () => fetch(`${running.issuer}/.well-known/openid-configuration`)],
    ['jwks', () => fetch(`${running.issuer}/jwks`)],
    [
      'token error',
      () =>
        fetch(`${running.issuer}/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=client_credentials',
        }),
    ],
    ['authorization error page', () => fetch(authorizeUrl({ client_id: 'no-such-client' }), { redirect: 'manual' })],
    ['authorization redirect', () => fetch(authorizeUrl({}), { redirect: 'manual' })],
    ['expired interaction page', () => fetch(`${running.issuer}/interaction/unknown-uid`)],
    ['healthz', () => fetch(`${running.issuer}/healthz`)],
    ['readyz', () => fetch(`${running.issuer}/readyz`)],
    ['metrics', () => fetch(`${running.issuer}/metrics`)],
    ['stylesheet', () => fetch(`${running.issuer}/assets/behalf.css`)],
    ['unknown path', () => fetch(`${running.issuer}/no-such-path`)],
  ];

  it.each(requests)('%s has X-Request-Id, nosniff and a restrictive CSP', async (_label, request) => {
    const response = await request();
    await response.arrayBuffer();
    expect(response.status).toBeLessThan(500);
    expect(response.headers.get('x-request-id')).toMatch(/^[A-Za-z0-9._-]{1,64}$/);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
  });

  it('echoes a well-formed incoming X-Request-Id and replaces a malformed one', async () => {
    const echoed = await fetch(`${running.issuer}/healthz`, { headers: { 'x-request-id': 'abc-123.test_id' } });
    expect(echoed.headers.get('x-request-id')).toBe('abc-123.test_id');
    const replaced = await fetch(`${running.issuer}/healthz`, { headers: { 'x-request-id': 'bad id <script>' } });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('the sign-in page forbids framing and loading anything but its own stylesheet', async () => {
    const page = await loginPage(new HttpBrowser(running.issuer));
    const csp = page.headers.get('content-security-policy')!;
    const directives = new Map(
      csp
        .split(';')
        .map((part) => part.trim().split(/\s+/))
        .map(([name, ...values]) => [name!, values.join(' ')]),
    );
    expect(directives.get('default-src')).toBe("'none'");
    expect(directives.get('frame-ancestors')).toBe("'none'");
    expect(directives.get('style-src')).toBe("'self'");
    // 'self' only as a slot for the hashes oidc-provider adds to its own self-submitting forms; Behalf serves no script.
    expect(directives.get('script-src')).toBe("'self'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('x-frame-options')).toMatch(/^(DENY|SAMEORIGIN)$/);
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.headers.get('cache-control')).toContain('no-store');
    expect(page.headers.get('x-request-id')).toBeTruthy();
  });
});

describe('CORS', () => {
  // Preflights are answered generously by oidc-provider (the client is not known yet); the
  // actual request is what is checked against the client's registered origins.
  it('lets no other origin read a token response', async () => {
    const token = await fetch(`${running.issuer}/token`, {
      method: 'POST',
      headers: {
        origin: 'https://evil.example',
        authorization: `Basic ${Buffer.from('integrator-demo:integrator-demo-secret').toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    // oidc-provider refuses the request outright when the client does not allow the origin.
    expect(token.status).toBe(400);
    expect(token.headers.get('access-control-allow-origin')).toBeNull();
    expect(((await token.json()) as { access_token?: string }).access_token).toBeUndefined();
  });
});

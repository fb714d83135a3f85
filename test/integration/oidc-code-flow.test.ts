/**
 * A real relying party (openid-client) against a real Behalf over HTTP:
 * discovery, authorization code + PKCE through the sign-in form, refresh,
 * userinfo, introspection, revocation and logout.
 */
import * as client from 'openid-client';
import { startBehalf, type RunningBehalf } from '../support/behalf.js';
import { HttpBrowser } from '../support/browser.js';

let running: RunningBehalf;

beforeAll(async () => {
  running = await startBehalf();
});
afterAll(async () => {
  await running?.stop();
});

async function discover(clientId: string, secret: string) {
  return client.discovery(new URL(running.issuer), clientId, secret, undefined, { execute: [client.allowInsecureRequests] });
}

async function signIn(
  config: client.Configuration,
  browser: HttpBrowser,
  redirectUri: string,
  email: string,
  password: string,
  extra: Record<string, string> = {},
) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid profile email offline_access',
    prompt: 'consent',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    ...extra,
  });
  const loginPage = await browser.follow(url.toString());
  expect(loginPage.html).toContain('<label for="email">Email</label>');
  expect(loginPage.html).toContain('<label for="password">Password</label>');
  expect(loginPage.html).toContain('>Sign in</button>');
  const callback = await browser.submit(loginPage, '/login', { email, password });
  if (!callback.url.startsWith(redirectUri))
    throw new Error(`sign-in ended at ${callback.url} (${callback.status}): ${callback.html.slice(0, 1500)}`);
  return { callback: new URL(callback.url), verifier, state };
}

describe('authorization code flow with PKCE (storefront client, customer)', () => {
  const redirectUri = 'http://localhost:4001/electronics/callback';
  let config: client.Configuration;
  let tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers;
  const browser = () => new HttpBrowser(running.issuer);

  async function freshTokens() {
    const flow = await signIn(config, browser(), redirectUri, 'oleg@example.com', 'Customer-Demo-2026');
    return client.authorizationCodeGrant(config, flow.callback, { pkceCodeVerifier: flow.verifier, expectedState: flow.state });
  }

  beforeAll(async () => {
    config = await discover('storefront-electronics', 'storefront-demo-secret');
    tokens = await freshTokens();
  });

  it('issues an ID token naming the customer, with auth_time and amr', () => {
    const claims = tokens.claims()!;
    expect(claims.iss).toBe(running.issuer);
    expect(claims.aud).toBe('storefront-electronics');
    expect(claims.sub).toMatch(/^[0-9a-f-]{36}$/);
    expect(typeof claims.auth_time).toBe('number');
    expect(claims.amr).toEqual(['pwd']);
    expect(claims.name).toBe('Oleg Petrov');
    expect(claims.store).toBe('electronics');
  });

  it('serves userinfo for the access token', async () => {
    const sub = tokens.claims()!.sub;
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, sub);
    expect(userinfo).toMatchObject({ sub, email: 'oleg@example.com', preferred_username: 'oleg@example.com', store: 'electronics' });
  });

  it('refreshes, rotating the refresh token; reuse of a rotated one revokes the grant', async () => {
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(refreshed.refresh_token).toBeDefined();
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect((await client.tokenIntrospection(config, refreshed.access_token)).active).toBe(true);
    await expect(client.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    // RFC 9700 §4.14.2: a replayed refresh token is a sign of theft; the whole grant dies.
    expect((await client.tokenIntrospection(config, refreshed.access_token)).active).toBe(false);
  });

  it('introspects its own token and revokes it', async () => {
    const fresh = await freshTokens();
    const active = await client.tokenIntrospection(config, fresh.access_token);
    expect(active).toMatchObject({ active: true, client_id: 'storefront-electronics', sub: fresh.claims()!.sub });
    await client.tokenRevocation(config, fresh.access_token);
    expect((await client.tokenIntrospection(config, fresh.access_token)).active).toBe(false);
  });

  it('refuses introspection to an unrelated client', async () => {
    const fresh = await freshTokens();
    const other = await discover('integrator-demo', 'integrator-demo-secret');
    expect((await client.tokenIntrospection(other, fresh.access_token)).active).toBe(false);
    expect((await client.tokenIntrospection(config, fresh.access_token)).active).toBe(true);
  });

  it('refuses revocation by an unrelated client', async () => {
    const fresh = await freshTokens();
    const other = await discover('integrator-demo', 'integrator-demo-secret');
    await client.tokenRevocation(other, fresh.access_token).catch(() => undefined);
    expect((await client.tokenIntrospection(config, fresh.access_token)).active).toBe(true);
  });
});

describe('sign-in rules', () => {
  it('tells staff with the right password at a storefront where staff sign in; refuses a wrong one and customers at the portal with the usual message', async () => {
    const storefront = await discover('storefront-electronics', 'storefront-demo-secret');
    const url = client.buildAuthorizationUrl(storefront, {
      redirect_uri: 'http://localhost:4001/electronics/callback',
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const browser = new HttpBrowser(running.issuer);
    const page = await browser.follow(url.toString());
    const staff = await browser.submit(page, '/login', { email: 'support@example.com', password: 'Support-Demo-2026' });
    expect(staff.html).toContain('This is a staff account: staff sign in at the support portal.');
    const wrong = await browser.submit(staff, '/login', { email: 'support@example.com', password: 'not-the-password' });
    expect(wrong.html).toContain('Invalid email or password');
    expect(wrong.html).not.toContain('staff account');
    const unknown = await browser.submit(wrong, '/login', { email: 'nobody@example.com', password: 'whatever-password' });
    expect(unknown.html).toContain('Invalid email or password');

    const portal = await discover('portal', 'portal-demo-secret');
    const portalUrl = client.buildAuthorizationUrl(portal, {
      redirect_uri: 'http://localhost:4002/callback',
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const portalPage = await new HttpBrowser(running.issuer).follow(portalUrl.toString());
    const customer = await new HttpBrowser(running.issuer).submit(portalPage, '/login', {
      email: 'oleg@example.com',
      password: 'Customer-Demo-2026',
    });
    expect(customer.html).toContain('This sign-in request has expired'); // a different browser has no interaction cookie
  });

  it('makes staff sign in again at the storefront even with a portal session (and the reverse)', async () => {
    const browser = new HttpBrowser(running.issuer);
    const portal = await discover('portal', 'portal-demo-secret');
    await signIn(portal, browser, 'http://localhost:4002/callback', 'support@example.com', 'Support-Demo-2026');
    const storefront = await discover('storefront-books', 'storefront-demo-secret');
    const url = client.buildAuthorizationUrl(storefront, {
      redirect_uri: 'http://localhost:4001/books/callback',
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const page = await browser.follow(url.toString());
    expect(page.html).toContain('>Sign in</button>');
  });

  it('forces a fresh sign-in with prompt=login', async () => {
    const browser = new HttpBrowser(running.issuer);
    const portal = await discover('portal', 'portal-demo-secret');
    const first = await signIn(portal, browser, 'http://localhost:4002/callback', 'admin@example.com', 'Admin-Demo-2026');
    expect(first.callback.searchParams.get('code')).toBeTruthy();
    const again = client.buildAuthorizationUrl(portal, {
      redirect_uri: 'http://localhost:4002/callback',
      scope: 'openid',
      prompt: 'login',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const page = await browser.follow(again.toString());
    expect(page.html).toContain('>Sign in</button>');
  });

  it('returns access_denied to the client when the user cancels', async () => {
    const browser = new HttpBrowser(running.issuer);
    const portal = await discover('portal', 'portal-demo-secret');
    const url = client.buildAuthorizationUrl(portal, {
      redirect_uri: 'http://localhost:4002/callback',
      scope: 'openid',
      state: 'xyz',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const page = await browser.follow(url.toString());
    const back = await browser.submit(page, '/abort', {});
    const callback = new URL(back.url);
    expect(callback.origin + callback.pathname).toBe('http://localhost:4002/callback');
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('state')).toBe('xyz');
  });
});

describe('RP-initiated logout', () => {
  it('shows a confirmation and ends the session', async () => {
    const browser = new HttpBrowser(running.issuer);
    const portal = await discover('portal', 'portal-demo-secret');
    const flow = await signIn(portal, browser, 'http://localhost:4002/callback', 'support@example.com', 'Support-Demo-2026');
    const tokens = await client.authorizationCodeGrant(portal, flow.callback, {
      pkceCodeVerifier: flow.verifier,
      expectedState: flow.state,
    });
    const endUrl = client.buildEndSessionUrl(portal, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: 'http://localhost:4002/',
    });
    const confirm = await browser.follow(endUrl.toString());
    expect(confirm.html).toContain('Sign out');
    const done = await browser.submit(confirm, '/session/end/confirm', { logout: 'yes' });
    expect(done.url).toBe('http://localhost:4002/');
    // The session is gone: the next authorization asks for credentials again.
    const url = client.buildAuthorizationUrl(portal, {
      redirect_uri: 'http://localhost:4002/callback',
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    expect((await browser.follow(url.toString())).html).toContain('>Sign in</button>');
  });
});

/**
 * RFC 6749 §5.1: a token response's `scope` is OPTIONAL only when identical to
 * the scope the client requested, otherwise REQUIRED. Behalf includes it
 * whenever a scope was granted, and it is always the granted scope (never the
 * requested one, never empty); a request none of whose scopes can be granted
 * is refused with invalid_scope rather than answered with a scope-less token.
 * One test per grant type: client_credentials, authorization_code (a scope
 * dropped at authorization, the re-authentication narrowed to openid),
 * refresh_token, and the token exchange (on behalf, delegation).
 */
import * as client from 'openid-client';
import { startBehalfWithClients, type RunningBehalf } from '../support/behalf.js';
import { HttpBrowser } from '../support/browser.js';
import { basic, codeFlowTokens, postForm, tokenRequest, type JsonResponse } from '../support/oauth.js';
import { customerId, exchange, onBehalfParams, openReauth, reauthenticate } from '../support/on-behalf.js';

const ORDERS_API = 'http://localhost:4003';
const PAYMENTS = 'urn:behalf:demo:payments';
const PLAIN = 'plain-service';
const PLAIN_SECRET = 'plain-service-secret';
const PORTAL_REDIRECT = 'http://localhost:4002/callback';
const STORE_REDIRECT = 'http://localhost:4001/electronics/callback';

let running: RunningBehalf;

beforeAll(async () => {
  // No default resource: without `resource` its tokens are opaque and have no audience.
  running = await startBehalfWithClients([
    {
      metadata: {
        client_id: PLAIN,
        client_kind: 'service',
        redirect_uris: [],
        response_types: [],
        grant_types: ['client_credentials'],
        allowed_resources: [ORDERS_API],
      },
      secret: PLAIN_SECRET,
    },
  ]);
});
afterAll(async () => {
  await running?.stop();
});

function expectGranted(response: JsonResponse, scope: string): void {
  expect(response.status).toBe(200);
  expect(typeof response.body.access_token).toBe('string');
  expect(response.body.scope).toBe(scope);
}

function expectInvalidScope(response: JsonResponse, description: RegExp): void {
  expect(response.status).toBe(400);
  expect(response.body.error).toBe('invalid_scope');
  expect(String(response.body.error_description)).toMatch(description);
  expect(response.body.access_token).toBeUndefined();
}

describe('client_credentials', () => {
  const integrator = (params: Record<string, string>) =>
    tokenRequest(running.issuer, 'integrator-demo', 'integrator-demo-secret', { grant_type: 'client_credentials', ...params });
  const plain = (params: Record<string, string>) =>
    tokenRequest(running.issuer, PLAIN, PLAIN_SECRET, { grant_type: 'client_credentials', ...params });

  it('names the granted scope when some requested scopes are unknown to the resource server', async () => {
    expectGranted(await integrator({ resource: ORDERS_API, scope: 'orders:read orders:delete' }), 'orders:read');
    // The same by the client's default resource.
    expectGranted(await integrator({ scope: 'orders:write made-up:scope' }), 'orders:write');
  });

  it('names the granted scope when it is identical to the requested one too', async () => {
    expectGranted(await integrator({ resource: ORDERS_API, scope: 'orders:write orders:read' }), 'orders:write orders:read');
  });

  it('refuses with invalid_scope when none of the requested scopes can be granted (no scope-less token)', async () => {
    expectInvalidScope(await integrator({ resource: ORDERS_API, scope: 'orders:delete' }), /orders:delete/);
    expectInvalidScope(await integrator({ scope: 'made-up:scope other' }), /made-up:scope other/);
    // Without a resource, only OpenID scopes exist: an API scope cannot be granted.
    expectInvalidScope(await plain({ scope: 'orders:read' }), /orders:read/);
  });

  it('the refused request leaves no usable token behind (the opaque one is destroyed)', async () => {
    const before = Number(
      (await running.behalf.dataSource.query(`SELECT count(*) AS n FROM oidc_payload WHERE model = 'ClientCredentials'`))[0].n,
    );
    expectInvalidScope(await plain({ scope: 'orders:read' }), /orders:read/);
    const after = Number(
      (await running.behalf.dataSource.query(`SELECT count(*) AS n FROM oidc_payload WHERE model = 'ClientCredentials'`))[0].n,
    );
    expect(after).toBe(before);
  });

  it('without scope: no scope asked, none granted, none named', async () => {
    const response = await plain({});
    expect(response.status).toBe(200);
    expect(response.body).not.toHaveProperty('scope');
  });

  it('names the OpenID scope it granted without a resource, dropping the unknown one', async () => {
    expectGranted(await plain({ scope: 'openid made-up:scope' }), 'openid');
  });
});

describe('authorization_code', () => {
  it('names the granted scope when the authorization dropped a scope (unknown; offline_access without prompt=consent)', async () => {
    const tokens = await codeFlowTokens(
      running.issuer,
      'portal',
      'portal-demo-secret',
      PORTAL_REDIRECT,
      'support@example.com',
      'Support-Demo-2026',
      'openid profile made-up:scope offline_access',
    );
    expect(tokens.scope).toBe('openid profile');
    expect(tokens.refresh_token).toBeUndefined();
  });

  it('names the narrowed scope of a re-authentication (only openid is granted there)', async () => {
    const oleg = await customerId(running, 'electronics', 'oleg@example.com');
    const { page, browser, config, verifier, state } = await openReauth(running, {
      customer: oleg,
      extra: { scope: 'openid profile email' },
    });
    const done = await browser.submit(page, '/reauth', {
      email: 'support@example.com',
      password: 'Support-Demo-2026',
      reason: 'Scope in token responses',
    });
    expect(done.url).toContain('/callback');
    const tokens = await client.authorizationCodeGrant(config, new URL(done.url), { pkceCodeVerifier: verifier, expectedState: state });
    expect(tokens.scope).toBe('openid');
  });
});

describe('refresh_token', () => {
  let refreshToken: string;

  beforeAll(async () => {
    // offline_access (a refresh token) needs prompt=consent; without it oidc-provider drops the scope.
    const config = await client.discovery(new URL(running.issuer), 'storefront-electronics', 'storefront-demo-secret', undefined, {
      execute: [client.allowInsecureRequests],
    });
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: STORE_REDIRECT,
      scope: 'openid profile offline_access',
      prompt: 'consent',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    const browser = new HttpBrowser(running.issuer);
    const callback = await browser.submit(await browser.follow(url.toString()), '/login', {
      email: 'oleg@example.com',
      password: 'Customer-Demo-2026',
    });
    expect(callback.url).toContain('/callback');
    const tokens = await client.authorizationCodeGrant(config, new URL(callback.url), { pkceCodeVerifier: verifier, expectedState: state });
    expect(tokens.scope).toBe('openid profile offline_access');
    refreshToken = tokens.refresh_token!;
  });

  async function refresh(params: Record<string, string> = {}): Promise<JsonResponse> {
    const response = await postForm(
      `${running.issuer}/token`,
      new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, ...params }),
      { authorization: basic('storefront-electronics', 'storefront-demo-secret') },
    );
    // Refresh tokens rotate.
    if (typeof response.body.refresh_token === 'string') refreshToken = response.body.refresh_token;
    return response;
  }

  it('names the narrower scope the refresh asked for', async () => {
    expectGranted(await refresh({ scope: 'openid' }), 'openid');
  });

  it('names the whole granted scope when the refresh asks for none', async () => {
    expectGranted(await refresh(), 'openid profile offline_access');
  });

  it('refuses a scope beyond the grant with invalid_scope', async () => {
    const response = await refresh({ scope: 'openid email' });
    expect(response.body.error).toBe('invalid_scope');
  });
});

describe('token exchange', () => {
  let oleg: string;

  beforeAll(async () => {
    oleg = await customerId(running, 'electronics', 'oleg@example.com');
  });

  it('on behalf: names the granted scope, the client’s on-behalf scope when none is asked', async () => {
    const { actorToken } = await reauthenticate(running, { customer: oleg });
    const whole = await exchange(running, onBehalfParams(oleg, actorToken));
    expectGranted(whole, 'orders:read orders:write');
    const narrowed = await exchange(running, onBehalfParams(oleg, actorToken, { scope: 'orders:read' }));
    expectGranted(narrowed, 'orders:read');
  });

  it('delegation: names the granted scope, with and without a requested one', async () => {
    const subject = await tokenRequest(running.issuer, 'integrator-demo', 'integrator-demo-secret', {
      grant_type: 'client_credentials',
      scope: 'orders:read orders:write',
    });
    const delegate = (params: Record<string, string>) =>
      tokenRequest(running.issuer, 'orders-api', 'orders-api-demo-secret', {
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token: String(subject.body.access_token),
        subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        resource: PAYMENTS,
        ...params,
      });
    expectGranted(await delegate({}), 'orders:read orders:write');
    expectGranted(await delegate({ scope: 'orders:write' }), 'orders:write');
  });
});

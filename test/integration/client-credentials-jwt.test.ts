/**
 * Client credentials and the token formats: RFC 9068 JWT access tokens for a
 * resource server (checked by two independent verifiers), invalid_target for
 * resources the client may not have, opaque tokens without a resource (for a
 * client without a default resource; see default-resource.test.ts), RS256
 * ID tokens by default, the discovery document, and PKCE for public clients.
 */
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import { startBehalfWithClients, type RunningBehalf } from '../support/behalf.js';
import { HttpBrowser } from '../support/browser.js';
import { codeFlowTokens, readJson, tokenRequest } from '../support/oauth.js';

const ORDERS_API = 'http://localhost:4003';
const PUBLIC_CLIENT = 'public-test-app';
const PUBLIC_REDIRECT = 'http://localhost:4001/electronics/public-callback';
const NO_DEFAULT_CLIENT = 'no-default-service';
const NO_DEFAULT_SECRET = 'no-default-service-secret';

let running: RunningBehalf;

beforeAll(async () => {
  running = await startBehalfWithClients([
    {
      metadata: {
        client_id: PUBLIC_CLIENT,
        client_name: 'Public test app',
        client_kind: 'storefront',
        store: 'electronics',
        token_endpoint_auth_method: 'none',
        redirect_uris: [PUBLIC_REDIRECT],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        scope: 'openid profile',
      },
      secret: null,
    },
    // A service without a default resource (integrator-demo has one: the orders API).
    {
      metadata: {
        client_id: NO_DEFAULT_CLIENT,
        client_kind: 'service',
        redirect_uris: [],
        response_types: [],
        grant_types: ['client_credentials'],
        allowed_resources: [ORDERS_API],
      },
      secret: NO_DEFAULT_SECRET,
    },
  ]);
});
afterAll(async () => {
  await running?.stop();
});

function integrator(params: Record<string, string>) {
  return tokenRequest(running.issuer, 'integrator-demo', 'integrator-demo-secret', { grant_type: 'client_credentials', ...params });
}

describe('client credentials with a resource indicator', () => {
  it('returns an RFC 9068 JWT access token signed with ES256 that jose verifies', async () => {
    const response = await integrator({ resource: ORDERS_API, scope: 'orders:read' });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ token_type: 'Bearer', scope: 'orders:read' });
    const token = String(response.body.access_token);
    expect(token.split('.')).toHaveLength(3);

    const jwks = createRemoteJWKSet(new URL(`${running.issuer}/jwks`));
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer: running.issuer,
      audience: ORDERS_API,
      typ: 'at+jwt',
      algorithms: ['ES256'],
    });
    expect(protectedHeader).toMatchObject({ typ: 'at+jwt', alg: 'ES256' });
    expect(typeof protectedHeader.kid).toBe('string');
    expect(payload.iss).toBe(running.issuer);
    expect(payload.aud).toBe(ORDERS_API);
    expect(payload.client_id).toBe('integrator-demo');
    expect(payload.sub).toBe('integrator-demo');
    expect(payload.scope).toBe('orders:read');
    expect(typeof payload.jti).toBe('string');
    expect(typeof payload.iat).toBe('number');
    expect(payload.exp).toBe(payload.iat! + Number(response.body.expires_in));
    expect(payload.exp! - payload.iat!).toBe(running.config.tokens.resourceAccessTokenTtl);
  });

  it('passes oauth4webapi validateJwtAccessToken (what a resource server would run)', async () => {
    const response = await integrator({ resource: ORDERS_API, scope: 'orders:read' });
    const issuer = new URL(running.issuer);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { [oauth.allowInsecureRequests]: true }));
    const request = new Request(`${ORDERS_API}/orders`, { headers: { authorization: `Bearer ${String(response.body.access_token)}` } });
    const claims = await oauth.validateJwtAccessToken(as, request, ORDERS_API, {
      [oauth.allowInsecureRequests]: true,
      signingAlgorithms: ['ES256'],
    });
    expect(claims).toMatchObject({ iss: running.issuer, aud: ORDERS_API, client_id: 'integrator-demo', scope: 'orders:read' });

    // The same verifier refuses the token for another audience: the check is real.
    await expect(
      oauth.validateJwtAccessToken(as, request, 'http://localhost:4999', { [oauth.allowInsecureRequests]: true }),
    ).rejects.toThrow();
  });

  it('treats http://localhost:4003/ (trailing slash) as the same resource', async () => {
    const response = await integrator({ resource: `${ORDERS_API}/`, scope: 'orders:read' });
    expect(response.status).toBe(200);
    const { payload } = await jwtVerify(String(response.body.access_token), createRemoteJWKSet(new URL(`${running.issuer}/jwks`)), {
      audience: ORDERS_API,
    });
    expect(payload.aud).toBe(ORDERS_API);
  });

  it('drops scopes the resource server does not define', async () => {
    const response = await integrator({ resource: ORDERS_API, scope: 'orders:read orders:delete' });
    expect(response.status).toBe(200);
    expect(response.body.scope).toBe('orders:read');
  });

  it.each([
    ['an unknown resource server', 'http://localhost:4999'],
    ['a relative resource', 'orders'],
    ['a resource with a fragment', `${ORDERS_API}/#fragment`],
  ])('refuses %s with invalid_target', async (_label, resource) => {
    const response = await integrator({ resource, scope: 'orders:read' });
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_target');
    expect(typeof response.body.error_description).toBe('string');
  });

  it("refuses a known resource that is not in the client's allowed_resources with invalid_target", async () => {
    // orders-api operates the resource server but may not ask tokens for it.
    const response = await tokenRequest(running.issuer, 'orders-api', 'orders-api-demo-secret', {
      grant_type: 'client_credentials',
      resource: ORDERS_API,
      scope: 'orders:read',
    });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ error: 'invalid_target' });
    expect(String(response.body.error_description)).toContain(ORDERS_API);
  });

  it('issues an opaque, introspectable token when no resource is asked for and the client has no default resource', async () => {
    const response = await tokenRequest(running.issuer, NO_DEFAULT_CLIENT, NO_DEFAULT_SECRET, { grant_type: 'client_credentials' });
    expect(response.status).toBe(200);
    const token = String(response.body.access_token);
    expect(token).not.toContain('.');
    expect(token).toMatch(/^[A-Za-z0-9_-]{32,}$/);
    const introspection = await readJson(
      await fetch(`${running.issuer}/token/introspection`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${NO_DEFAULT_CLIENT}:${NO_DEFAULT_SECRET}`).toString('base64')}`,
        },
        body: new URLSearchParams({ token }),
      }),
    );
    expect(introspection.body).toMatchObject({ active: true, client_id: NO_DEFAULT_CLIENT, token_type: 'Bearer' });
    expect(introspection.body.aud).toBeUndefined();
  });
});

describe('ID tokens', () => {
  it('are signed with RS256 by default, with a key published in JWKS', async () => {
    const tokens = await codeFlowTokens(
      running.issuer,
      'portal',
      'portal-demo-secret',
      'http://localhost:4002/callback',
      'support@example.com',
      'Support-Demo-2026',
    );
    const header = decodeProtectedHeader(tokens.id_token!);
    expect(header.alg).toBe('RS256');
    const jwks = (await (await fetch(`${running.issuer}/jwks`)).json()) as { keys: { kid: string; kty: string; alg?: string }[] };
    expect(jwks.keys.find((key) => key.kid === header.kid)).toMatchObject({ kty: 'RSA', alg: 'RS256' });
    await expect(
      jwtVerify(tokens.id_token!, createRemoteJWKSet(new URL(`${running.issuer}/jwks`)), {
        issuer: running.issuer,
        audience: 'portal',
        algorithms: ['RS256'],
      }),
    ).resolves.toBeDefined();
  });
});

describe('discovery', () => {
  let metadata: Record<string, unknown>;

  beforeAll(async () => {
    const response = await fetch(`${running.issuer}/.well-known/openid-configuration`);
    expect(response.status).toBe(200);
    metadata = (await response.json()) as Record<string, unknown>;
  });

  it('names the issuer and lists the endpoints', () => {
    expect(metadata).toMatchObject({
      issuer: running.issuer,
      authorization_endpoint: `${running.issuer}/auth`,
      token_endpoint: `${running.issuer}/token`,
      jwks_uri: `${running.issuer}/jwks`,
      introspection_endpoint: `${running.issuer}/token/introspection`,
      revocation_endpoint: `${running.issuer}/token/revocation`,
      end_session_endpoint: `${running.issuer}/session/end`,
      userinfo_endpoint: `${running.issuer}/me`,
    });
  });

  it('offers S256 as the only PKCE method', () => {
    expect(metadata.code_challenge_methods_supported).toEqual(['S256']);
  });

  it('supports RS256 ID tokens and the client credentials grant', () => {
    expect(metadata.id_token_signing_alg_values_supported).toContain('RS256');
    expect(metadata.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'client_credentials', 'refresh_token']));
  });
});

describe('PKCE for public clients', () => {
  function authorizeUrl(extra: Record<string, string>): string {
    const params = new URLSearchParams({
      client_id: PUBLIC_CLIENT,
      response_type: 'code',
      redirect_uri: PUBLIC_REDIRECT,
      scope: 'openid',
      state: 'st',
      ...extra,
    });
    return `${running.issuer}/auth?${params}`;
  }

  it('refuses an authorization request without a code challenge', async () => {
    const response = await fetch(authorizeUrl({}), { redirect: 'manual' });
    expect(response.status).toBe(303);
    const location = new URL(response.headers.get('location')!);
    expect(location.origin + location.pathname).toBe(PUBLIC_REDIRECT);
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('error_description')).toMatch(/PKCE/i);
    expect(location.searchParams.get('state')).toBe('st');
    expect(location.searchParams.get('code')).toBeNull();
  });

  it('refuses the plain method', async () => {
    const response = await fetch(authorizeUrl({ code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' }), { redirect: 'manual' });
    const location = new URL(response.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('code')).toBeNull();
  });

  it('accepts the same client with S256 (it reaches the sign-in page)', async () => {
    const challenge = oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier());
    const page = await new HttpBrowser(running.issuer).follow(
      authorizeUrl({ code_challenge: await challenge, code_challenge_method: 'S256' }),
    );
    expect(page.status).toBe(200);
    expect(page.html).toContain('>Sign in</button>');
  });
});

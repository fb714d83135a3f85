/**
 * The resource-server kit against a real Behalf: a tiny Koa API built only on
 * the kit verifies client-credentials and on-behalf JWTs for the orders API,
 * refuses every kind of bad token with RFC 6750 errors (never a 500), follows
 * key rotation without a JWKS fetch storm, honours the outermost `act`,
 * scopes and the on-behalf guard, refuses tokens of ended sessions within its
 * cache lifetime (and fails closed when Behalf cannot be asked), and verifies
 * opaque tokens by introspection.
 */
import { randomUUID } from 'node:crypto';
import Router from '@koa/router';
import Koa from 'koa';
import { decodeJwt, decodeProtectedHeader, generateKeyPair, importJWK, SignJWT, type JWTPayload, type CryptoKey } from 'jose';
import {
  createAccessTokenVerifier,
  createSessionStatusChecker,
  forbidOnBehalf,
  requireAuth,
  type AccessTokenVerifier,
  type Principal,
  type SessionStatusChecker,
} from '../../src/resource-server/index.js';
import { registerClient } from '../../src/server/clients/register.js';
import { activateKey, loadKeystore, publishKey } from '../../src/server/keys/key-store.js';
import { DEMO_CLIENTS } from '../../src/server/seed/demo-data.js';
import { createServices } from '../../src/server/system.js';
import { startBehalf, testConfig, type RunningBehalf } from '../support/behalf.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { authorizationFor } from '../support/dpop.js';
import { closedPort, requestCount, serve, type Served } from '../support/kit.js';
import { basic, postForm, tokenRequest } from '../support/oauth.js';
import { customerId, exchange, onBehalfParams, reauthenticate, staffId } from '../support/on-behalf.js';
import { eventually } from '../support/poll.js';

const ORDERS_API = 'http://localhost:4003';
const OPAQUE_API = 'http://localhost:4012';
const OPAQUE_RS_SECRET = 'opaque-rs-test-secret';

let database: TestDatabase;
let running: RunningBehalf;
let oleg: string;
let sam: string;
const served: Served[] = [];

beforeAll(async () => {
  // An opaque-format resource server, a client that operates it, and the
  // integrator allowed tokens for it: registered before Behalf starts.
  database = await createTestDatabase();
  const services = await createServices(testConfig(database.url, 'http://127.0.0.1'));
  try {
    await services.resourceServers.upsert({
      identifier: OPAQUE_API,
      name: 'Opaque orders (test)',
      tokenFormat: 'opaque',
      scopes: ['orders:read'],
    });
    await registerClient(
      services,
      {
        client_id: 'opaque-rs',
        client_name: 'Opaque resource server (test)',
        client_kind: 'service',
        redirect_uris: [],
        response_types: [],
        grant_types: ['client_credentials'],
        allowed_resources: [],
        resource_servers: [OPAQUE_API],
      },
      OPAQUE_RS_SECRET,
    );
    const integrator = DEMO_CLIENTS.find((client) => client.metadata.client_id === 'integrator-demo')!;
    await registerClient(services, { ...integrator.metadata, allowed_resources: [ORDERS_API, OPAQUE_API] }, integrator.secret);
  } finally {
    await services.database.close();
  }
  running = await startBehalf({ database, overrides: { onBehalf: { maxConcurrentSessions: 10 } } });
  oleg = await customerId(running, 'electronics', 'oleg@example.com');
  sam = await staffId(running, 'support@example.com');
});
afterAll(async () => {
  for (const app of served) await app.close();
  await running?.stop();
  await database?.drop();
});

// ---------------------------------------------------------------- the API under test

/** A tiny orders API built only on the kit. */
async function ordersApi(verifier: AccessTokenVerifier, sessionStatus?: SessionStatusChecker): Promise<string> {
  const router = new Router();
  const auth = { verifier, ...(sessionStatus ? { sessionStatus } : {}) };
  router.get('/orders', requireAuth({ ...auth, scopes: ['orders:read'] }), (ctx) => {
    ctx.body = ctx.state.principal;
  });
  router.post('/orders/refunds', requireAuth({ ...auth, scopes: ['orders:refund'] }), (ctx) => {
    ctx.body = { refunded: true };
  });
  router.put('/payment-methods', requireAuth(auth), forbidOnBehalf('changing payment methods'), (ctx) => {
    ctx.body = { changed: true };
  });
  // A wiring mistake: the guard without requireAuth in front of it.
  router.delete('/account', forbidOnBehalf('deleting the account'), (ctx) => {
    ctx.body = { deleted: true };
  });
  const app = new Koa();
  app.use(router.routes());
  const server = await serve(app);
  served.push(server);
  return server.url;
}

function jwtVerifier(overrides: Partial<Parameters<typeof createAccessTokenVerifier>[0]> = {}): AccessTokenVerifier {
  return createAccessTokenVerifier({ issuer: running.issuer, audience: ORDERS_API, ...overrides });
}

async function call(url: string, token: string | undefined, method = 'GET', authorization?: string) {
  // On-behalf tokens are DPoP-bound (the demo storefront clients require it): presented with their proof.
  const headers = authorization ? { authorization } : token === undefined ? {} : await authorizationFor(token, method, url);
  const response = await fetch(url, { method, headers });
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON
  }
  return { status: response.status, headers: response.headers, body, challenge: response.headers.get('www-authenticate') ?? '' };
}

// ---------------------------------------------------------------- tokens

async function clientCredentials(resource = ORDERS_API): Promise<string> {
  const response = await tokenRequest(running.issuer, 'integrator-demo', 'integrator-demo-secret', {
    grant_type: 'client_credentials',
    resource,
    scope: 'orders:read',
  });
  expect(response.status).toBe(200);
  return String(response.body.access_token);
}

/** A real login on behalf: Sam re-authenticates for Oleg, the storefront exchanges. */
async function onBehalfToken(): Promise<string> {
  const { actorToken } = await reauthenticate(running, { customer: oleg });
  const response = await exchange(running, onBehalfParams(oleg, actorToken));
  expect(response.status).toBe(200);
  return String(response.body.access_token);
}

/** Behalf's active ES256 signing key, read from its key store (test code only). */
async function behalfKey(): Promise<{ key: CryptoKey; kid: string }> {
  const { jwks } = await loadKeystore(running.behalf.dataSource, running.behalf.sealer);
  const jwk = jwks.keys.find((key) => key.alg === 'ES256' && !key.key_ops)!;
  return { key: (await importJWK(jwk, 'ES256')) as CryptoKey, kid: jwk.kid! };
}

/** An access token shaped like Behalf's, signed with Behalf's key unless another is given. */
async function sign(
  claims: JWTPayload & Record<string, unknown>,
  header: Record<string, unknown> = {},
  signer?: { key: CryptoKey; kid: string },
): Promise<string> {
  const { key, kid } = signer ?? (await behalfKey());
  const now = Math.floor(Date.now() / 1000);
  const payload = {
    iss: running.issuer,
    aud: ORDERS_API,
    iat: now,
    exp: now + 300,
    jti: randomUUID(),
    client_id: 'storefront-electronics',
    scope: 'orders:read orders:write',
    sub: oleg,
    ...claims,
  };
  return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid, ...header }).sign(key);
}

async function foreignKey(): Promise<{ key: CryptoKey; kid: string }> {
  return { key: (await generateKeyPair('ES256')).privateKey, kid: `unknown-${randomUUID()}` };
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function expectInvalidToken(response: Awaited<ReturnType<typeof call>>, description?: RegExp): void {
  expect(response.status).toBe(401);
  expect(response.challenge).toMatch(/^Bearer realm="api", error="invalid_token", error_description="[^"]+"$/);
  expect(response.body.error).toBe('invalid_token');
  if (description) expect(String(response.body.error_description)).toMatch(description);
  expect(response.headers.get('cache-control')).toBe('no-store');
}

// ---------------------------------------------------------------- tests

describe('valid tokens', () => {
  let api: string;
  beforeAll(async () => {
    api = await ordersApi(jwtVerifier());
  });

  it('turns a client-credentials JWT into a principal: the client is the subject, nobody acts', async () => {
    const response = await call(`${api}/orders`, await clientCredentials());
    expect(response.status).toBe(200);
    const principal = response.body as unknown as Principal;
    expect(principal).toMatchObject({
      subject: 'integrator-demo',
      clientId: 'integrator-demo',
      scopes: ['orders:read'],
      actorChain: [],
      onBehalf: false,
      doer: 'integrator-demo',
    });
    expect(principal.actor).toBeUndefined();
    expect(principal.onBehalfSessionId).toBeUndefined();
  });

  it('turns an on-behalf JWT into a principal: the customer owns, the agent acts', async () => {
    const token = await onBehalfToken();
    const response = await call(`${api}/orders`, token);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      subject: oleg,
      actor: { sub: sam },
      actorChain: [{ sub: sam }],
      onBehalf: true,
      doer: sam,
      clientId: 'storefront-electronics',
      scopes: ['orders:read', 'orders:write'],
      onBehalfSessionId: decodeJwt(token).obo_sid,
    });
    expect(typeof response.body.onBehalfSessionId).toBe('string');
  });

  it('accepts a verifier configured with a trailing slash on the audience (Behalf issues it without)', async () => {
    const slashed = await ordersApi(jwtVerifier({ audience: `${ORDERS_API}/` }));
    expect((await call(`${slashed}/orders`, await clientCredentials())).status).toBe(200);
  });
});

describe('bad tokens get 401 invalid_token, never a 500', () => {
  let api: string;
  beforeAll(async () => {
    api = await ordersApi(jwtVerifier());
  });

  const now = () => Math.floor(Date.now() / 1000);
  const cases: [string, () => Promise<string>, RegExp?][] = [
    ['an expired token', () => sign({ iat: now() - 700, exp: now() - 60 }), /expired/],
    ['a token for another resource server', () => sign({ aud: 'http://localhost:4999' }), /not meant for this resource server/],
    ['a token from another issuer', () => sign({ iss: 'http://127.0.0.1:1' })],
    ['a token with typ JWT (an ID token shape)', () => sign({}, { typ: 'JWT' })],
    ['a token with no typ', () => sign({}, { typ: undefined })],
    [
      'a token with alg none',
      async () =>
        `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64({ iss: running.issuer, aud: ORDERS_API, sub: oleg, client_id: 'x', jti: 'j', iat: now(), exp: now() + 300, scope: 'orders:read' })}.`,
    ],
    [
      'a token with alg HS256 and Behalf’s kid',
      async () => {
        const { kid } = await behalfKey();
        return new SignJWT({ iss: running.issuer, aud: ORDERS_API, sub: oleg, client_id: 'x', jti: 'j', scope: 'orders:read' })
          .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid })
          .setIssuedAt()
          .setExpirationTime('5m')
          .sign(new TextEncoder().encode('a-shared-secret-that-nobody-should-accept'));
      },
    ],
    ['a token signed by an unknown key', async () => sign({}, {}, await foreignKey())],
    [
      'a token signed by another key under Behalf’s kid',
      async () => sign({}, {}, { key: (await foreignKey()).key, kid: (await behalfKey()).kid }),
    ],
    [
      'a token whose payload was altered',
      async () => {
        const [header, , signature] = (await clientCredentials()).split('.');
        return `${header}.${b64({ sub: oleg, act: { sub: sam }, iss: running.issuer, aud: ORDERS_API, client_id: 'integrator-demo', scope: 'orders:read', jti: 'j', iat: now(), exp: now() + 300 })}.${signature}`;
      },
    ],
    ['a token without a client_id', () => sign({ client_id: undefined })],
    ['a token without a subject', () => sign({ sub: undefined })],
    ['a token whose act is a string', () => sign({ act: sam }), /act/],
    ['a token whose act has no sub', () => sign({ act: { client_id: 'storefront-electronics' } }), /act/],
    ['a token whose nested act is malformed', () => sign({ act: { sub: sam, act: 'someone' } }), /act/],
    ['garbage', async () => 'not-a-token'],
    ['garbage with dots', async () => 'a.b.c'],
    ['an opaque-looking token the JWT-only API cannot introspect', () => clientCredentials(OPAQUE_API)],
  ];

  it.each(cases.map(([label, make, description]) => ({ label, make, description })))('refuses $label', async ({ make, description }) => {
    expectInvalidToken(await call(`${api}/orders`, await make()), description);
  });

  it('refuses a malformed Bearer header with invalid_token', async () => {
    expectInvalidToken(await call(`${api}/orders`, undefined, 'GET', 'Bearer two words'));
    expectInvalidToken(await call(`${api}/orders`, undefined, 'GET', 'Bearer'));
  });

  it.each([
    ['no Authorization header', undefined],
    ['Basic credentials instead of a Bearer token', basic('integrator-demo', 'integrator-demo-secret')],
  ])('answers %s with a bare Bearer challenge (RFC 6750 §3.1: no error code)', async (_label, authorization) => {
    const response = await call(`${api}/orders`, undefined, 'GET', authorization);
    expect(response.status).toBe(401);
    expect(response.challenge).toBe('Bearer realm="api"');
    expect(response.body.error).toBe('missing_token');
  });
});

describe('scopes, the outermost actor and the on-behalf guard', () => {
  let api: string;
  beforeAll(async () => {
    api = await ordersApi(jwtVerifier());
  });

  it('refuses a token without the route’s scope with 403 insufficient_scope naming the scope', async () => {
    const response = await call(`${api}/orders/refunds`, await clientCredentials(), 'POST');
    expect(response.status).toBe(403);
    expect(response.challenge).toMatch(
      /^Bearer realm="api", error="insufficient_scope", error_description="[^"]+", scope="orders:refund"$/,
    );
    expect(response.body).toMatchObject({ error: 'insufficient_scope', error_description: expect.stringContaining('orders:refund') });
  });

  it('takes the OUTERMOST act as the actor and keeps the whole chain', async () => {
    const token = await sign({ act: { sub: sam, act: { sub: 'orders-api', client_id: 'orders-api' } } });
    const response = await call(`${api}/orders`, token);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      subject: oleg,
      actor: { sub: sam },
      actorChain: [{ sub: sam }, { sub: 'orders-api', clientId: 'orders-api' }],
      doer: sam,
      onBehalf: true,
    });
  });

  it('refuses a guarded operation on behalf with 403 on_behalf_forbidden and a clear message', async () => {
    const response = await call(`${api}/payment-methods`, await onBehalfToken(), 'PUT');
    expect(response.status).toBe(403);
    expect(response.body).toEqual({
      error: 'on_behalf_forbidden',
      error_description: 'changing payment methods is not allowed while acting on behalf of a customer; the customer must do it themselves',
    });
  });

  it('allows the guarded operation with the customer’s own token', async () => {
    const own = await sign({ sub: oleg, client_id: 'storefront-electronics' });
    const response = await call(`${api}/payment-methods`, own, 'PUT');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ changed: true });
  });

  it('does not open a guarded route that was mounted without requireAuth', async () => {
    const response = await call(`${api}/account`, await onBehalfToken(), 'DELETE');
    expect(response.status).toBe(500);
    expect(response.body).not.toEqual({ deleted: true });
  });
});

describe('ended on-behalf sessions', () => {
  it('refuses the session’s tokens within the status cache lifetime (1 s) + 2 s after the storefront ends it', async () => {
    const sessions = createSessionStatusChecker({
      issuer: running.issuer,
      clientId: 'orders-api',
      clientSecret: 'orders-api-demo-secret',
      cacheSeconds: 1,
    });
    const api = await ordersApi(jwtVerifier(), sessions);
    const token = await onBehalfToken();
    expect((await call(`${api}/orders`, token)).status).toBe(200);
    expect((await call(`${api}/orders`, token)).status).toBe(200); // cached answer

    const sessionId = String(decodeJwt(token).obo_sid);
    const endedAt = Date.now();
    const ended = await postForm(`${running.issuer}/on-behalf/sessions/end`, new URLSearchParams({ session_id: sessionId }), {
      authorization: basic('storefront-electronics', 'storefront-demo-secret'),
    });
    expect(ended.status).toBe(200);

    let refusedAt = 0;
    const refused = await eventually(
      async () => {
        const response = await call(`${api}/orders`, token);
        refusedAt = Date.now();
        return response.status === 401 ? response : undefined;
      },
      { timeoutMs: 3_000, intervalMs: 50, what: 'the ended session’s token refused' },
    );
    expect(refusedAt - endedAt).toBeLessThanOrEqual(1_000 + 2_000);
    expectInvalidToken(refused, /session has ended/);
    // Final: it stays refused, and tokens without a session are unaffected.
    expectInvalidToken(await call(`${api}/orders`, token), /session has ended/);
    expect((await call(`${api}/orders`, await clientCredentials())).status).toBe(200);
  });

  it('fails closed with 503 when Behalf cannot be asked about the session', async () => {
    const port = await closedPort();
    const sessions = createSessionStatusChecker({
      issuer: `http://127.0.0.1:${port}`,
      clientId: 'orders-api',
      clientSecret: 'orders-api-demo-secret',
      cacheSeconds: 1,
    });
    const api = await ordersApi(jwtVerifier(), sessions);
    const response = await call(`${api}/orders`, await onBehalfToken());
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({ error: 'session_unverifiable' });
    expect(response.headers.get('retry-after')).toBe('1');
    // A token without an on-behalf session needs no status check.
    expect((await call(`${api}/orders`, await clientCredentials())).status).toBe(200);
  });

  it('fails closed with 503 when the status check is refused (wrong resource-server credentials)', async () => {
    const sessions = createSessionStatusChecker({
      issuer: running.issuer,
      clientId: 'orders-api',
      clientSecret: 'wrong-secret',
      cacheSeconds: 1,
    });
    const api = await ordersApi(jwtVerifier(), sessions);
    const response = await call(`${api}/orders`, await onBehalfToken());
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({ error: 'session_unverifiable' });
  });

  it('fails closed with 503 (not "invalid token") when Behalf’s JWKS cannot be fetched', async () => {
    const port = await closedPort();
    const api = await ordersApi(jwtVerifier({ jwksUri: `http://127.0.0.1:${port}/jwks` }));
    const response = await call(`${api}/orders`, await clientCredentials());
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({ error: 'token_unverifiable' });
    expect(response.challenge).toBe('');
  });
});

describe('opaque tokens through introspection', () => {
  const opaqueVerifier = (cacheSeconds: number, clientSecret = OPAQUE_RS_SECRET) =>
    createAccessTokenVerifier({
      issuer: running.issuer,
      audience: OPAQUE_API,
      introspection: { clientId: 'opaque-rs', clientSecret, cacheSeconds },
    });

  it('verifies an opaque client-credentials token and caches the answer', async () => {
    const api = await ordersApi(opaqueVerifier(60));
    const token = await clientCredentials(OPAQUE_API);
    expect(token).not.toContain('.');
    const before = await requestCount(running.issuer, '/token/introspection');
    for (let i = 0; i < 5; i += 1) {
      const response = await call(`${api}/orders`, token);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        subject: 'integrator-demo',
        clientId: 'integrator-demo',
        scopes: ['orders:read'],
        onBehalf: false,
        doer: 'integrator-demo',
        actorChain: [],
      });
    }
    expect((await requestCount(running.issuer, '/token/introspection')) - before).toBe(1);
  });

  it('refuses the token once revoked, as soon as the cached answer (1 s) expires', async () => {
    const api = await ordersApi(opaqueVerifier(1));
    const token = await clientCredentials(OPAQUE_API);
    expect((await call(`${api}/orders`, token)).status).toBe(200);

    const revokedAt = Date.now();
    const revoked = await postForm(`${running.issuer}/token/revocation`, new URLSearchParams({ token, token_type_hint: 'access_token' }), {
      authorization: basic('integrator-demo', 'integrator-demo-secret'),
    });
    expect(revoked.status).toBe(200);
    let refusedAt = 0;
    const refused = await eventually(
      async () => {
        const response = await call(`${api}/orders`, token);
        refusedAt = Date.now();
        return response.status === 401 ? response : undefined;
      },
      { timeoutMs: 3_000, intervalMs: 50, what: 'the revoked token refused' },
    );
    expect(refusedAt - revokedAt).toBeLessThanOrEqual(1_000 + 2_000);
    expectInvalidToken(refused, /invalid, expired or revoked/);
  });

  it('refuses a JWT for another resource server and garbage without asking in vain', async () => {
    const api = await ordersApi(opaqueVerifier(1));
    expectInvalidToken(await call(`${api}/orders`, await clientCredentials(ORDERS_API)), /not meant for this resource server/);
    expectInvalidToken(await call(`${api}/orders`, 'nonexistent-opaque-token'));
    // A JWT-shaped token is never sent to introspection (which would refuse it with a 400).
    const before = await requestCount(running.issuer, '/token/introspection');
    expectInvalidToken(await call(`${api}/orders`, `${b64({ alg: 'none' })}.${b64({ sub: oleg })}.`));
    expect((await requestCount(running.issuer, '/token/introspection')) - before).toBe(0);
  });

  it('fails closed with 503 when Behalf refuses the resource server’s own credentials', async () => {
    const api = await ordersApi(opaqueVerifier(1, 'wrong-secret'));
    const response = await call(`${api}/orders`, await clientCredentials(OPAQUE_API));
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({ error: 'token_unverifiable' });
  });
});

// Last: it changes Behalf's signing key.
describe('key rotation', () => {
  const jwksFetches = () => requestCount(running.issuer, '/jwks');

  it('verifies tokens signed with a newly activated key at once, and old tokens still', async () => {
    const api = await ordersApi(jwtVerifier());
    const oldToken = await clientCredentials();
    expect((await call(`${api}/orders`, oldToken)).status).toBe(200); // the verifier has fetched the JWKS now

    const { dataSource, sealer } = running.behalf;
    const published = await publishKey(dataSource, sealer, 'ES256');
    await activateKey(dataSource, published.kid);
    const newToken = await eventually(
      async () => {
        const token = await clientCredentials();
        return decodeProtectedHeader(token).kid === published.kid ? token : undefined;
      },
      { timeoutMs: 5_000, what: 'Behalf signing with the new key' },
    );

    // The verifier fetched the JWKS seconds ago, before the key existed: the new kid refetches anyway, once.
    const before = await jwksFetches();
    const response = await call(`${api}/orders`, newToken);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ subject: 'integrator-demo' });
    expect((await jwksFetches()) - before).toBe(1);
    expect((await call(`${api}/orders`, oldToken)).status).toBe(200);
    expect((await jwksFetches()) - before).toBe(1);
  });

  it('fetches the JWKS at most once for an unknown kid repeated 20 times', async () => {
    const api = await ordersApi(jwtVerifier());
    expect((await call(`${api}/orders`, await clientCredentials())).status).toBe(200);
    const signer = await foreignKey();
    const forged = await sign({}, {}, signer);

    const before = await jwksFetches();
    for (let i = 0; i < 10; i += 1) expectInvalidToken(await call(`${api}/orders`, forged));
    const concurrent = await Promise.all(Array.from({ length: 10 }, () => call(`${api}/orders`, forged)));
    for (const response of concurrent) expectInvalidToken(response);
    expect((await jwksFetches()) - before).toBeLessThanOrEqual(1);
    // Good tokens keep working meanwhile, without further fetches.
    expect((await call(`${api}/orders`, await clientCredentials())).status).toBe(200);
    expect((await jwksFetches()) - before).toBeLessThanOrEqual(1);
  });
});

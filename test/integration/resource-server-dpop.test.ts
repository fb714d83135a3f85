/**
 * The resource-server kit and DPoP (RFC 9449 §7), against a real Behalf and
 * a tiny Koa API built only on the kit: a DPoP-bound token (JWT from
 * client_credentials with openid-client's DPoP handle, opaque through
 * introspection) is accepted with `Authorization: DPoP` and a valid proof,
 * and refused as Bearer, with another key, without `ath`, with a replayed
 * `jti`, for another URI, or without a proof, each time with a DPoP
 * challenge (§7.1). Behind a proxy `htu` is the public URL.
 */
import Router from '@koa/router';
import Koa from 'koa';
import * as client from 'openid-client';
import { createAccessTokenVerifier, requireAuth, type VerifierOptions } from '../../src/resource-server/index.js';
import { registerClient } from '../../src/server/clients/register.js';
import { DEMO_CLIENTS } from '../../src/server/seed/demo-data.js';
import { createServices } from '../../src/server/system.js';
import { startBehalf, testConfig, type RunningBehalf } from '../support/behalf.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { dpopKey, dpopProof, type DpopKey } from '../support/dpop.js';
import { serve, type Served } from '../support/kit.js';
import { tokenRequest } from '../support/oauth.js';

const ORDERS_API = 'http://localhost:4003';
const OPAQUE_API = 'http://localhost:4013';
const OPAQUE_RS_SECRET = 'opaque-rs-dpop-test-secret';

let database: TestDatabase;
let running: RunningBehalf;
const served: Served[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  const services = await createServices(testConfig(database.url, 'http://127.0.0.1'));
  try {
    await services.resourceServers.upsert({
      identifier: OPAQUE_API,
      name: 'Opaque (DPoP test)',
      tokenFormat: 'opaque',
      scopes: ['orders:read'],
    });
    await registerClient(
      services,
      {
        client_id: 'opaque-rs',
        client_kind: 'service',
        redirect_uris: [],
        response_types: [],
        grant_types: ['client_credentials'],
        allowed_resources: [],
        resource_servers: [OPAQUE_API],
      },
      OPAQUE_RS_SECRET,
    );
    const integrator = DEMO_CLIENTS.find((c) => c.metadata.client_id === 'integrator-demo')!;
    await registerClient(services, { ...integrator.metadata, allowed_resources: [ORDERS_API, OPAQUE_API] }, integrator.secret);
  } finally {
    await services.database.close();
  }
  running = await startBehalf({ database });
});
afterAll(async () => {
  for (const app of served) await app.close();
  await running?.stop();
  await database?.drop();
});

/** An API on the kit: GET /whoami answers the principal's subject. */
async function api(options: Partial<VerifierOptions> = {}, audience = ORDERS_API): Promise<Served> {
  const verifier = createAccessTokenVerifier({ issuer: running.issuer, audience, ...options });
  const router = new Router();
  router.get('/whoami', requireAuth({ verifier, realm: 'test' }), (ctx) => {
    ctx.body = { sub: ctx.state.principal!.subject };
  });
  const app = new Koa();
  app.use(router.routes());
  const server = await serve(app);
  served.push(server);
  return server;
}

/** A client-credentials token of the integrator bound to `key` (oidc-provider's grant, through openid-client). */
async function boundToken(key: DpopKey, resource = ORDERS_API): Promise<string> {
  const config = await client.discovery(new URL(running.issuer), 'integrator-demo', 'integrator-demo-secret', undefined, {
    execute: [client.allowInsecureRequests],
  });
  const response = await client.clientCredentialsGrant(
    config,
    { resource, scope: 'orders:read' },
    { DPoP: client.getDPoPHandle(config, key.keyPair) },
  );
  expect(response.token_type).toBe('dpop');
  return response.access_token;
}

function call(url: string, authorization: string, proofs: string[] = []) {
  const headers = new Headers({ authorization });
  for (const proof of proofs) headers.append('dpop', proof);
  return fetch(url, { headers });
}

function expectChallenge(response: Response, error: 'invalid_token' | 'invalid_dpop_proof'): void {
  expect(response.status).toBe(401);
  const challenge = response.headers.get('www-authenticate') ?? '';
  expect(challenge).toMatch(/^DPoP /);
  expect(challenge).toContain(`error="${error}"`);
  expect(challenge).toMatch(/algs="[^"]*ES256/);
}

describe('a DPoP-bound JWT', () => {
  let key: DpopKey;
  let token: string;
  let server: Served;
  let url: string;
  beforeAll(async () => {
    key = await dpopKey();
    token = await boundToken(key);
    server = await api();
    url = `${server.url}/whoami`;
  });
  const proof = (claims: Partial<Parameters<typeof dpopProof>[1]> = {}, by = key) =>
    dpopProof(by, { htm: 'GET', htu: url, accessToken: token, ...claims });

  it('is accepted with the DPoP scheme and a proof of its key for this request (query ignored in htu)', async () => {
    const response = await call(url, `DPoP ${token}`, [await proof()]);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ sub: 'integrator-demo' });
    const withQuery = await call(`${url}?page=2`, `DPoP ${token}`, [await proof()]);
    expect(withQuery.status).toBe(200);
  });

  it('is refused as a Bearer token, even with a valid proof', async () => {
    expectChallenge(await call(url, `Bearer ${token}`, [await proof()]), 'invalid_token');
    expectChallenge(await call(url, `Bearer ${token}`), 'invalid_token');
  });

  it('is refused with a proof made with another key', async () => {
    expectChallenge(await call(url, `DPoP ${token}`, [await proof({}, await dpopKey())]), 'invalid_token');
  });

  it('is refused with a replayed proof (the same jti twice)', async () => {
    const once = await proof();
    expect((await call(url, `DPoP ${token}`, [once])).status).toBe(200);
    expectChallenge(await call(url, `DPoP ${token}`, [once]), 'invalid_dpop_proof');
  });

  it('is refused with a proof without ath, for another access token, another URI or method, too old, or none at all', async () => {
    expectChallenge(await call(url, `DPoP ${token}`, [await proof({ withoutAth: true })]), 'invalid_dpop_proof');
    expectChallenge(await call(url, `DPoP ${token}`, [await proof({ accessToken: 'another-token' })]), 'invalid_dpop_proof');
    expectChallenge(await call(url, `DPoP ${token}`, [await proof({ htu: `${server.url}/elsewhere` })]), 'invalid_dpop_proof');
    expectChallenge(await call(url, `DPoP ${token}`, [await proof({ htm: 'POST' })]), 'invalid_dpop_proof');
    expectChallenge(await call(url, `DPoP ${token}`, [await proof({ iat: Math.floor(Date.now() / 1000) - 600 })]), 'invalid_dpop_proof');
    expectChallenge(await call(url, `DPoP ${token}`), 'invalid_dpop_proof');
    expectChallenge(await call(url, `DPoP ${token}`, [await proof(), await proof()]), 'invalid_dpop_proof');
  });

  it('is refused by a verifier asked without the request (its proof cannot be checked)', async () => {
    const verify = createAccessTokenVerifier({ issuer: running.issuer, audience: ORDERS_API });
    await expect(verify(token)).rejects.toMatchObject({ code: 'invalid_token' });
  });

  it('uses the public URL for htu behind a proxy', async () => {
    const proxied = await api({ dpop: { publicUrl: 'https://api.example.com/orders' } });
    const internal = `${proxied.url}/whoami`;
    const publicProof = await dpopProof(key, { htm: 'GET', htu: 'https://api.example.com/orders/whoami', accessToken: token });
    expect((await call(internal, `DPoP ${token}`, [publicProof])).status).toBe(200);
    const internalProof = await dpopProof(key, { htm: 'GET', htu: internal, accessToken: token });
    expectChallenge(await call(internal, `DPoP ${token}`, [internalProof]), 'invalid_dpop_proof');
  });
});

describe('unbound tokens', () => {
  it('still work as Bearer tokens, and are refused with the DPoP scheme', async () => {
    const server = await api();
    const url = `${server.url}/whoami`;
    const response = await tokenRequest(running.issuer, 'integrator-demo', 'integrator-demo-secret', {
      grant_type: 'client_credentials',
      resource: ORDERS_API,
      scope: 'orders:read',
    });
    const token = String(response.body.access_token);
    expect((await call(url, `Bearer ${token}`)).status).toBe(200);
    const key = await dpopKey();
    expectChallenge(
      await call(url, `DPoP ${token}`, [await dpopProof(key, { htm: 'GET', htu: url, accessToken: token })]),
      'invalid_token',
    );
  });
});

describe('a DPoP-bound opaque token (introspection)', () => {
  it('is accepted with its proof and refused as Bearer', async () => {
    const key = await dpopKey();
    const token = await boundToken(key, OPAQUE_API);
    expect(token).not.toContain('.');
    const server = await api({ introspection: { clientId: 'opaque-rs', clientSecret: OPAQUE_RS_SECRET } }, OPAQUE_API);
    const url = `${server.url}/whoami`;
    const ok = await call(url, `DPoP ${token}`, [await dpopProof(key, { htm: 'GET', htu: url, accessToken: token })]);
    expect(ok.status).toBe(200);
    expectChallenge(await call(url, `Bearer ${token}`), 'invalid_token');
  });
});

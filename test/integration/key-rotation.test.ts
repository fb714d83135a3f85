/**
 * Two Behalf instances on one database: staged signing-key rotation
 * (publish → activate → retire) reaches both within seconds, outstanding
 * tokens keep verifying until their key is retired, and opaque tokens issued
 * at one instance are introspected and revoked at the other.
 */
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { activateKey, listKeys, publishKey, retireKey } from '../../src/server/keys/key-store.js';
import { startBehalf, type RunningBehalf } from '../support/behalf.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { basic, postForm, tokenRequest } from '../support/oauth.js';
import { eventually } from '../support/poll.js';

const ORDERS_API = 'http://localhost:4003';

let database: TestDatabase;
let a: RunningBehalf;
let b: RunningBehalf;

beforeAll(async () => {
  database = await createTestDatabase();
  a = await startBehalf({ database });
  // Two instances of one deployment share the issuer (behind one load balancer).
  b = await startBehalf({ database, env: { ISSUER: a.issuer } });
});
afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await database?.drop();
});

async function jwks(instance: RunningBehalf): Promise<JSONWebKeySet> {
  const response = await fetch(`${instance.issuer}/jwks`);
  expect(response.status).toBe(200);
  return (await response.json()) as JSONWebKeySet;
}

const kids = (set: JSONWebKeySet) => set.keys.map((key) => key.kid);

async function jwtAccessToken(instance: RunningBehalf): Promise<string> {
  const response = await tokenRequest(instance.issuer, 'integrator-demo', 'integrator-demo-secret', { grant_type: 'client_credentials', resource: ORDERS_API, scope: 'orders:read' });
  expect(response.status).toBe(200);
  return String(response.body.access_token);
}

const kidOf = (token: string) => decodeProtectedHeader(token).kid;

/** Verifies against the instance's current JWKS document (no cache between calls). */
async function verifyAt(instance: RunningBehalf, token: string) {
  return jwtVerify(token, createLocalJWKSet(await jwks(instance)), { issuer: a.issuer, audience: ORDERS_API, typ: 'at+jwt', algorithms: ['ES256'] });
}

describe('staged ES256 key rotation across two instances', () => {
  it('publishes, activates and retires a key, and both instances follow', async () => {
    const { dataSource, sealer } = a.behalf;
    expect(b.config.issuer).toBe(a.issuer);

    // Before: both instances sign with the same key, the one JWKS lists.
    const before = await jwtAccessToken(a);
    const oldKid = kidOf(before)!;
    expect(kidOf(await jwtAccessToken(b))).toBe(oldKid);
    expect(kids(await jwks(a))).toContain(oldKid);

    // Stage 1 — publish: the new key appears in both JWKS documents …
    const published = await publishKey(dataSource, sealer, 'ES256');
    expect(published.kid).not.toBe(oldKid);
    for (const instance of [a, b]) {
      await eventually(async () => kids(await jwks(instance)).includes(published.kid), { what: `published kid in ${instance.issuer}/jwks` });
    }
    // … but neither instance signs with it yet.
    expect(kidOf(await jwtAccessToken(a))).toBe(oldKid);
    expect(kidOf(await jwtAccessToken(b))).toBe(oldKid);
    const publishedJwk = (await jwks(b)).keys.find((key) => key.kid === published.kid)!;
    expect(publishedJwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256' });
    expect(publishedJwk.d).toBeUndefined();

    // Stage 2 — activate: both instances sign with the new key …
    await activateKey(dataSource, published.kid);
    for (const instance of [a, b]) {
      await eventually(async () => kidOf(await jwtAccessToken(instance)) === published.kid, { what: `tokens from ${instance.issuer} signed with the new kid` });
    }
    const after = await jwtAccessToken(b);
    const statuses = new Map((await listKeys(dataSource)).map((key) => [key.kid, key.status]));
    expect(statuses.get(oldKid)).toBe('inactive');
    expect(statuses.get(published.kid)).toBe('active');
    // … new tokens verify at both, and the token signed before still verifies:
    // the old key stays in JWKS (inactive) for outstanding tokens.
    for (const instance of [a, b]) {
      expect(kids(await jwks(instance))).toEqual(expect.arrayContaining([oldKid, published.kid]));
      await expect(verifyAt(instance, after)).resolves.toMatchObject({ protectedHeader: { kid: published.kid } });
      await expect(verifyAt(instance, before)).resolves.toMatchObject({ protectedHeader: { kid: oldKid } });
    }

    // Stage 3 — retire: the old key leaves both JWKS documents and its tokens stop verifying.
    await retireKey(dataSource, oldKid);
    for (const instance of [a, b]) {
      await eventually(async () => !kids(await jwks(instance)).includes(oldKid), { what: `old kid gone from ${instance.issuer}/jwks` });
      await expect(verifyAt(instance, before)).rejects.toThrow();
      await expect(verifyAt(instance, after)).resolves.toBeDefined();
    }
    expect(kidOf(await jwtAccessToken(a))).toBe(published.kid);
  });

  it('refuses to retire the key that signs', async () => {
    const current = kidOf(await jwtAccessToken(a))!;
    await expect(retireKey(a.behalf.dataSource, current)).rejects.toThrow(/signing/);
    expect(kids(await jwks(a))).toContain(current);
  });
});

describe('opaque tokens across instances', () => {
  const auth = { authorization: basic('integrator-demo', 'integrator-demo-secret') };

  it('introspects at one instance a token issued by the other, and revokes it there', async () => {
    const issued = await tokenRequest(a.issuer, 'integrator-demo', 'integrator-demo-secret', { grant_type: 'client_credentials' });
    expect(issued.status).toBe(200);
    const token = String(issued.body.access_token);
    expect(token).not.toContain('.');

    const atB = await postForm(`${b.issuer}/token/introspection`, new URLSearchParams({ token }), auth);
    expect(atB.status).toBe(200);
    expect(atB.body).toMatchObject({ active: true, client_id: 'integrator-demo', iss: a.issuer });

    const revoked = await postForm(`${b.issuer}/token/revocation`, new URLSearchParams({ token }), auth);
    expect(revoked.status).toBe(200);

    for (const instance of [a, b]) {
      const after = await postForm(`${instance.issuer}/token/introspection`, new URLSearchParams({ token }), auth);
      expect(after.body).toEqual({ active: false });
    }
  });
});

/**
 * Staged signing-key rotation (publish → activate → retire): a published key
 * is in JWKS before it signs, outstanding tokens keep verifying until their
 * key is retired, and the signing key cannot be retired. That two instances
 * (separate processes) follow a rotation together is in several-instances.test.ts.
 */
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { activateKey, listKeys, publishKey, retireKey } from '../../src/server/keys/key-store.js';
import { startBehalf, type RunningBehalf } from '../support/behalf.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { tokenRequest } from '../support/oauth.js';
import { eventually } from '../support/poll.js';

const ORDERS_API = 'http://localhost:4003';

let database: TestDatabase;
let a: RunningBehalf;

beforeAll(async () => {
  database = await createTestDatabase();
  a = await startBehalf({ database });
});
afterAll(async () => {
  await a?.stop();
  await database?.drop();
});

async function jwks(instance: RunningBehalf): Promise<JSONWebKeySet> {
  const response = await fetch(`${instance.issuer}/jwks`);
  expect(response.status).toBe(200);
  return (await response.json()) as JSONWebKeySet;
}

const kids = (set: JSONWebKeySet) => set.keys.map((key) => key.kid);

async function jwtAccessToken(instance: RunningBehalf): Promise<string> {
  const response = await tokenRequest(instance.issuer, 'integrator-demo', 'integrator-demo-secret', {
    grant_type: 'client_credentials',
    resource: ORDERS_API,
    scope: 'orders:read',
  });
  expect(response.status).toBe(200);
  return String(response.body.access_token);
}

const kidOf = (token: string) => decodeProtectedHeader(token).kid;

/** Verifies against the instance's current JWKS document (no cache between calls). */
async function verifyAt(instance: RunningBehalf, token: string) {
  return jwtVerify(token, createLocalJWKSet(await jwks(instance)), {
    issuer: a.issuer,
    audience: ORDERS_API,
    typ: 'at+jwt',
    algorithms: ['ES256'],
  });
}

describe('staged ES256 key rotation', () => {
  it('publishes, activates and retires a key', async () => {
    const { dataSource, sealer } = a.behalf;
    const before = await jwtAccessToken(a);
    const oldKid = kidOf(before)!;
    expect(kids(await jwks(a))).toContain(oldKid);

    // Stage 1 — publish: the new key appears in JWKS …
    const published = await publishKey(dataSource, sealer, 'ES256');
    expect(published.kid).not.toBe(oldKid);
    await eventually(async () => kids(await jwks(a)).includes(published.kid), { what: 'published kid in /jwks' });
    // … but does not sign yet.
    expect(kidOf(await jwtAccessToken(a))).toBe(oldKid);
    const publishedJwk = (await jwks(a)).keys.find((key) => key.kid === published.kid)!;
    expect(publishedJwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256' });
    expect(publishedJwk.d).toBeUndefined();

    // Stage 2 — activate: new tokens are signed with the new key …
    await activateKey(dataSource, published.kid);
    await eventually(async () => kidOf(await jwtAccessToken(a)) === published.kid, { what: 'tokens signed with the new kid' });
    const after = await jwtAccessToken(a);
    const statuses = new Map((await listKeys(dataSource)).map((key) => [key.kid, key.status]));
    expect(statuses.get(oldKid)).toBe('inactive');
    expect(statuses.get(published.kid)).toBe('active');
    // … and the token signed before still verifies: the old key stays in JWKS (inactive) for outstanding tokens.
    expect(kids(await jwks(a))).toEqual(expect.arrayContaining([oldKid, published.kid]));
    await expect(verifyAt(a, after)).resolves.toMatchObject({ protectedHeader: { kid: published.kid } });
    await expect(verifyAt(a, before)).resolves.toMatchObject({ protectedHeader: { kid: oldKid } });

    // Stage 3 — retire: the old key leaves JWKS and its tokens stop verifying.
    await retireKey(dataSource, oldKid);
    await eventually(async () => !kids(await jwks(a)).includes(oldKid), { what: 'old kid gone from /jwks' });
    await expect(verifyAt(a, before)).rejects.toThrow();
    await expect(verifyAt(a, after)).resolves.toBeDefined();
    expect(kidOf(await jwtAccessToken(a))).toBe(published.kid);
  });

  it('refuses to retire the key that signs', async () => {
    const current = kidOf(await jwtAccessToken(a))!;
    await expect(retireKey(a.behalf.dataSource, current)).rejects.toThrow(/signing/);
    expect(kids(await jwks(a))).toContain(current);
  });
});

/**
 * The IETF Token Status List (draft-ietf-oauth-status-list-21) over real
 * HTTP: every JWT access token carries `status`; the list is a signed
 * `statuslist+jwt` at its URI; RFC 7009 revocation, a session's end and a
 * revoked grant flip the bits of a token and of every token derived from it;
 * introspection (RFC 7662) answers for JWTs; the kit refuses revoked tokens
 * and fails closed once it cannot refresh a list within its bound.
 */
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { runCli } from '../../src/cli/index.js';
import { createAccessTokenVerifier, KitError } from '../../src/resource-server/index.js';
import { decodeLst, statusAt } from '../../src/resource-server/status-list.js';
import { startBehalf, type RunningBehalf } from '../support/behalf.js';
import { delegate } from '../support/delegation.js';
import { basic, postForm, tokenRequest } from '../support/oauth.js';
import { customerId, exchange, onBehalfParams, reauthenticate } from '../support/on-behalf.js';
import { customerToken } from '../support/orders-api.js';
import { eventually } from '../support/poll.js';

const ORDERS = 'http://localhost:4003';
const PAYMENTS = 'urn:behalf:demo:payments';
const SECRETS: Record<string, string> = {
  'integrator-demo': 'integrator-demo-secret',
  'orders-api': 'orders-api-demo-secret',
  portal: 'portal-demo-secret',
  'storefront-electronics': 'storefront-demo-secret',
};

let running: RunningBehalf;
let stopped = false;

beforeAll(async () => {
  running = await startBehalf();
});
afterAll(async () => {
  if (!stopped) await running?.stop();
});

type StatusRef = { idx: number; uri: string };
const statusOf = (jwt: string) => (decodeJwt(jwt).status as { status_list: StatusRef }).status_list;

async function integratorJwt(): Promise<string> {
  const response = await tokenRequest(running.issuer, 'integrator-demo', SECRETS['integrator-demo']!, {
    grant_type: 'client_credentials',
    scope: 'orders:read',
  });
  expect(response.status).toBe(200);
  return String(response.body.access_token);
}

const introspect = (clientId: string, token: string) =>
  postForm(`${running.issuer}/token/introspection`, new URLSearchParams({ token }), { authorization: basic(clientId, SECRETS[clientId]!) });
const revoke = (clientId: string, token: string) =>
  postForm(`${running.issuer}/token/revocation`, new URLSearchParams({ token }), { authorization: basic(clientId, SECRETS[clientId]!) });

/** The bit of `ref` in the list as Behalf serves it now (after its 1 s render cache). */
async function bit(ref: StatusRef): Promise<number | undefined> {
  const response = await fetch(ref.uri, { headers: { accept: 'application/statuslist+jwt' } });
  const { payload } = await jwtVerify(await response.text(), createRemoteJWKSet(new URL(`${running.issuer}/jwks`)), {
    typ: 'statuslist+jwt',
    subject: ref.uri,
  });
  const list = payload.status_list as { bits: number; lst: string };
  return statusAt(decodeLst(list.lst), list.bits, ref.idx);
}

async function tokensRevokedRecords(): Promise<Record<string, unknown>[]> {
  const rows = (await running.behalf.dataSource.query(`SELECT details FROM audit_event WHERE type = 'token.revoked' ORDER BY seq`)) as {
    details: Record<string, unknown>;
  }[];
  return rows.map((row) => row.details);
}

describe('the status list', () => {
  it('is named by every JWT access token and served signed at its URI as application/statuslist+jwt (§5.1, §6.2, §8)', async () => {
    const token = await integratorJwt();
    const ref = statusOf(token);
    expect(ref.uri).toBe(`${running.issuer}/status-lists/${Math.floor(ref.idx / 2 ** 20)}`);
    const response = await fetch(ref.uri, { headers: { accept: 'application/statuslist+jwt' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/statuslist+jwt');
    expect(response.headers.get('cache-control')).toBe('public, max-age=1');
    const jwt = await response.text();
    const { payload, protectedHeader } = await jwtVerify(jwt, createRemoteJWKSet(new URL(`${running.issuer}/jwks`)), {
      issuer: running.issuer,
      subject: ref.uri,
      typ: 'statuslist+jwt',
      algorithms: ['ES256'],
    });
    expect(protectedHeader).toMatchObject({ alg: 'ES256', typ: 'statuslist+jwt', kid: expect.any(String) });
    expect(payload).toMatchObject({ iat: expect.any(Number), exp: expect.any(Number), ttl: 4, status_list: { bits: 1 } });
    expect(decodeLst((payload.status_list as { lst: string }).lst)).toHaveLength(2 ** 17);
    expect(await bit(ref)).toBe(0);

    // Conditional requests, content negotiation, unknown lists.
    const again = await fetch(ref.uri, { headers: { 'if-none-match': response.headers.get('etag')! } });
    expect([200, 304]).toContain(again.status);
    const json = await fetch(ref.uri, { headers: { accept: 'application/json' } });
    expect(json.status).toBe(406);
    expect(await json.json()).toMatchObject({ error: 'not_acceptable' });
    for (const path of ['/status-lists/999999', '/status-lists/abc', '/status-lists/-1'])
      expect((await fetch(`${running.issuer}${path}`)).status).toBe(404);
  });
});

describe('a JWT’s status entry', () => {
  const db = () => running.behalf.dataSource;
  const count = async (sql: string, params: unknown[] = []) => Number(((await db().query(sql, params)) as { n: string }[])[0]!.n);

  it('commits in the statement of its token.issued record: when the record fails, neither exists and no token leaves', async () => {
    const before = {
      statuses: await count(`SELECT count(*) AS n FROM token_status WHERE client_id = 'integrator-demo'`),
      issued: await count(`SELECT count(*) AS n FROM audit_event WHERE type = 'token.issued' AND client_id = 'integrator-demo'`),
    };
    // The audit append refuses this client's records for a moment (as a failing disk or a full table would).
    await db().query(`CREATE FUNCTION test_refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.client_id = 'integrator-demo' THEN RAISE EXCEPTION 'audit refused for the test'; END IF; RETURN NEW; END $$`);
    await db().query(`CREATE TRIGGER test_refuse_audit BEFORE INSERT ON audit_event FOR EACH ROW EXECUTE FUNCTION test_refuse_audit()`);
    try {
      const refused = await tokenRequest(running.issuer, 'integrator-demo', SECRETS['integrator-demo']!, {
        grant_type: 'client_credentials',
        scope: 'orders:read',
      });
      expect(refused.status).toBe(503);
      expect(refused.body.access_token).toBeUndefined();
    } finally {
      await db().query(`DROP TRIGGER test_refuse_audit ON audit_event`);
      await db().query(`DROP FUNCTION test_refuse_audit()`);
    }
    expect(await count(`SELECT count(*) AS n FROM token_status WHERE client_id = 'integrator-demo'`)).toBe(before.statuses);
    expect(await count(`SELECT count(*) AS n FROM audit_event WHERE type = 'token.issued' AND client_id = 'integrator-demo'`)).toBe(
      before.issued,
    );

    // Once the record can be written, the token, its status row and its record all exist, and name each other.
    const token = await integratorJwt();
    const { jti } = decodeJwt(token);
    const [row] = (await db().query(`SELECT idx FROM token_status WHERE jti = $1`, [jti])) as { idx: string }[];
    expect(Number(row!.idx) % 2 ** 20).toBe(statusOf(token).idx);
    expect(await count(`SELECT count(*) AS n FROM audit_event WHERE type = 'token.issued' AND details->>'jti' = $1`, [jti])).toBe(1);
  });

  it('gets an index no other token has, also when many are issued at once', async () => {
    const tokens = await Promise.all(Array.from({ length: 40 }, () => integratorJwt()));
    const refs = tokens.map(statusOf);
    expect(new Set(refs.map((ref) => `${ref.uri}#${ref.idx}`)).size).toBe(tokens.length);
  });
});

describe('RFC 7009 revocation of a JWT', () => {
  it('flips its bit; introspection then says inactive and the kit refuses it within 5 s', async () => {
    const token = await integratorJwt();
    const kit = createAccessTokenVerifier({ issuer: running.issuer, audience: ORDERS, statusList: {} });
    await expect(kit(token)).resolves.toMatchObject({ client_id: 'integrator-demo' });
    // The orders API operates the audience: it may introspect.
    expect((await introspect('orders-api', token)).body).toMatchObject({
      active: true,
      client_id: 'integrator-demo',
      aud: ORDERS,
      token_type: 'Bearer',
      iss: running.issuer,
      status: { status_list: statusOf(token) },
    });
    // Neither its client nor its audience: nothing is revealed, nothing is revoked.
    expect((await introspect('portal', token)).body).toEqual({ active: false });
    expect((await revoke('portal', token)).status).toBe(200);
    expect((await introspect('integrator-demo', token)).body).toMatchObject({ active: true });

    const revoked = await revoke('integrator-demo', token);
    const revokedAt = Date.now();
    expect(revoked.status).toBe(200);
    expect((await introspect('integrator-demo', token)).body).toEqual({ active: false });
    expect((await introspect('orders-api', token)).body).toEqual({ active: false });
    await eventually(async () => (await bit(statusOf(token))) === 1, { timeoutMs: 3000, what: 'the bit set' });
    await eventually(
      () =>
        kit(token).then(
          () => false,
          (error: unknown) => error instanceof KitError && error.code === 'token_revoked' && error.status === 401,
        ),
      { timeoutMs: 5000, what: 'the kit refusing the token' },
    );
    expect(Date.now() - revokedAt).toBeLessThan(5000);
    expect((await tokensRevokedRecords()).at(-1)).toMatchObject({ jti: decodeJwt(token).jti, tokens_revoked: 1, reason: 'revoked' });

    // Revoking again, or something that is no token of Behalf's: 200, nothing to do (RFC 7009 §2.2).
    expect((await revoke('integrator-demo', token)).status).toBe(200);
    expect((await revoke('integrator-demo', 'eyJhbGciOiJFUzI1NiJ9.e30.c2ln')).status).toBe(200);
    expect((await introspect('integrator-demo', 'eyJhbGciOiJFUzI1NiJ9.e30.c2ln')).body).toEqual({ active: false });
  });
});

describe('the end of an on-behalf session', () => {
  it('flips its JWTs and the tokens derived from them, in the transaction that ends it', async () => {
    const oleg = await customerId(running, 'electronics', 'oleg@example.com');
    const { actorToken } = await reauthenticate(running, { customer: oleg });
    const onBehalf = String((await exchange(running, onBehalfParams(oleg, actorToken))).body.access_token);
    // The on-behalf token is DPoP-bound (demo storefronts): the helper delegates it with orders-api's own proof.
    const derived = await delegate(running, 'orders-api', onBehalf, { audience: 'payments' });
    expect(derived.status).toBe(200);
    const derivedToken = String(derived.body.access_token);
    expect(decodeJwt(derivedToken)).toMatchObject({ aud: PAYMENTS, status: { status_list: { idx: expect.any(Number) } } });
    expect((await introspect('orders-api', derivedToken)).body).toMatchObject({ active: true, obo_sid: decodeJwt(onBehalf).obo_sid });

    const ended = await postForm(
      `${running.issuer}/on-behalf/sessions/end`,
      new URLSearchParams({ session_id: String(decodeJwt(onBehalf).obo_sid) }),
      { authorization: basic('storefront-electronics', SECRETS['storefront-electronics']!) },
    );
    expect(ended.status).toBe(200);
    expect((await introspect('storefront-electronics', onBehalf)).body).toEqual({ active: false });
    expect((await introspect('orders-api', derivedToken)).body).toEqual({ active: false });
    await eventually(async () => (await bit(statusOf(onBehalf))) === 1 && (await bit(statusOf(derivedToken))) === 1, {
      timeoutMs: 3000,
      what: 'both bits set',
    });
    expect((await tokensRevokedRecords()).at(-1)).toMatchObject({ reason: 'on_behalf_ended', tokens_revoked: 2 });
  });
});

describe('a revoked permission', () => {
  it('ends the agent’s running sessions in that store at once, and with them their tokens', async () => {
    const oleg = await customerId(running, 'electronics', 'oleg@example.com');
    const { actorToken } = await reauthenticate(running, { customer: oleg });
    const onBehalf = String((await exchange(running, onBehalfParams(oleg, actorToken))).body.access_token);
    expect((await introspect('storefront-electronics', onBehalf)).body).toMatchObject({ active: true });
    let out = '';
    const io = { stdout: { write: (text: string) => (out += text) }, stderr: { write: (text: string) => (out += text) } };
    const argv = ['permissions', 'revoke', 'support@example.com', 'security:loginOnBehalf', '--store', 'electronics'];
    expect(await runCli(argv, io, { env: { NODE_ENV: 'test', DATABASE_URL: running.database.url } })).toBe(0);
    expect(out).toMatch(/1 running on-behalf session\(s\) in that store ended/);
    expect((await introspect('storefront-electronics', onBehalf)).body).toEqual({ active: false });
    expect((await tokensRevokedRecords()).at(-1)).toMatchObject({ reason: 'on_behalf_ended', tokens_revoked: 1 });
  });
});

describe('a revoked grant', () => {
  it('flips the JWTs issued under it and those derived from them', async () => {
    const token = await customerToken(running, 'oleg@example.com');
    const derived = await tokenRequest(running.issuer, 'orders-api', SECRETS['orders-api']!, {
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: token,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      audience: 'payments',
    });
    expect(derived.status).toBe(200);
    const [row] = (await running.behalf.dataSource.query(`SELECT grant_id FROM token_status WHERE jti = $1`, [decodeJwt(token).jti])) as {
      grant_id: string;
    }[];
    expect(row!.grant_id).toEqual(expect.any(String));
    // What a refresh-token revocation, a logout or a session's end does to a grant, through the OIDC port.
    await running.behalf.oidc.port.revokeGrant(row!.grant_id);
    expect((await introspect('orders-api', token)).body).toEqual({ active: false });
    expect((await introspect('orders-api', String(derived.body.access_token))).body).toEqual({ active: false });
    expect((await tokensRevokedRecords()).at(-1)).toMatchObject({ reason: 'grant_revoked', grant_id: row!.grant_id, tokens_revoked: 2 });
  });
});

describe('the kit when Behalf cannot be reached', () => {
  it('keeps using a list within maxStaleSeconds, then refuses every token of it with 503 (fail closed)', async () => {
    const token = await integratorJwt();
    const kit = createAccessTokenVerifier({
      issuer: running.issuer,
      audience: ORDERS,
      statusList: { refreshSeconds: 0, maxStaleSeconds: 6, timeoutMs: 1000 },
    });
    await expect(kit(token)).resolves.toMatchObject({ client_id: 'integrator-demo' });
    const lastFetch = Date.now();
    await running.stop();
    stopped = true;
    // The list cannot be fetched again: the copy from a moment ago still answers, within the bound.
    await expect(kit(token)).resolves.toMatchObject({ client_id: 'integrator-demo' });
    expect(Date.now() - lastFetch).toBeLessThan(6000);
    await new Promise((resolve) => setTimeout(resolve, 6100 - (Date.now() - lastFetch)));
    const refusal = await kit(token).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(KitError);
    expect(refusal).toMatchObject({ code: 'token_unverifiable', status: 503 });
  });
});

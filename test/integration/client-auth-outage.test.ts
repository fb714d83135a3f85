/**
 * A database outage while a client authenticates is Behalf's outage, not the
 * client's wrong credentials: 503 `temporarily_unavailable` with Retry-After,
 * at oidc-provider's endpoints (token, introspection) and at Behalf's own
 * client-authenticated APIs (on-behalf session end and status), never
 * `401 invalid_client`. Behalf runs as its own process on a private embedded
 * PostgreSQL (never the run's shared server), which this test stops.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../config/load.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/server/db/embedded.js';
import { seedDemo } from '../../src/server/seed/seed-demo.js';
import { createServices } from '../../src/server/system.js';
import { spawnBehalf, type BehalfProcess } from '../support/behalf-process.js';
import { basic, readJson, type JsonResponse } from '../support/oauth.js';
import { eventually } from '../support/poll.js';

let dir: string;
let database: EmbeddedDatabase | undefined;
let running: BehalfProcess | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'behalf-client-auth-outage-'));
  database = await startEmbeddedPostgres({ dir, database: 'behalf' });
  const services = await createServices(loadConfig({ env: { NODE_ENV: 'test', DATABASE_URL: database.url } }));
  try {
    await seedDemo(services);
  } finally {
    await services.database.close();
  }
  // Without rate limits: the limiter's own database write would answer 503 before any client is authenticated.
  running = await spawnBehalf({ databaseUrl: database.url, overrides: { rateLimits: { enabled: false } } });
}, 120_000);

afterAll(async () => {
  await running?.stop().catch(() => undefined);
  await database?.stop().catch(() => undefined);
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

const STOREFRONT = basic('storefront-electronics', 'storefront-demo-secret');

async function call(path: string, init: { method?: string; authorization: string; form?: Record<string, string> }): Promise<JsonResponse> {
  const response = await fetch(`${running!.url}${path}`, {
    method: init.method ?? (init.form ? 'POST' : 'GET'),
    headers: { authorization: init.authorization, ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
    body: init.form ? new URLSearchParams(init.form).toString() : undefined,
    signal: AbortSignal.timeout(8_000),
  });
  return readJson(response);
}

/** Every client-authenticated request this test makes, each with a client's right credentials. */
const requests = {
  token: () =>
    call('/token', {
      authorization: basic('integrator-demo', 'integrator-demo-secret'),
      form: { grant_type: 'client_credentials', scope: 'orders:read', resource: 'http://localhost:4003' },
    }),
  introspection: () => call('/token/introspection', { authorization: STOREFRONT, form: { token: 'not-a-token' } }),
  sessionStatus: () => call(`/on-behalf/sessions/${randomUUID()}/status`, { authorization: STOREFRONT }),
  sessionEnd: () => call('/on-behalf/sessions/end', { authorization: STOREFRONT, form: { session_id: randomUUID() } }),
};

describe('client authentication during a database outage', () => {
  it('answers 503 temporarily_unavailable with Retry-After, never 401 invalid_client', async () => {
    // Up: every client authenticates (the session ids name no session, hence 404 after authentication).
    expect((await requests.token()).status).toBe(200);
    expect((await requests.introspection()).body).toEqual({ active: false });
    expect((await requests.sessionStatus()).status).toBe(404);
    expect((await requests.sessionEnd()).status).toBe(404);

    await database!.stop();
    await eventually(async () => (await fetch(`${running!.url}/readyz`)).status === 503, {
      timeoutMs: 10_000,
      intervalMs: 200,
      what: '/readyz 503 while the database is down',
    });

    for (const [name, request] of Object.entries(requests)) {
      const answer = await request();
      expect({ name, status: answer.status, error: answer.body.error }).toEqual({ name, status: 503, error: 'temporarily_unavailable' });
      expect(answer.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(answer.headers.get('www-authenticate')).toBeNull();
      expect(answer.text).not.toMatch(/\n\s+at |ECONNREFUSED|QueryFailedError/);
    }
  }, 60_000);
});

/**
 * Brute-force limits on sign-in. That the token budget per client is shared by
 * instances (separate processes) is in several-instances.test.ts.
 */
import { startBehalf, type RunningBehalf } from '../support/behalf.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { guessPastSignInLimit } from '../support/oauth.js';

let db: TestDatabase;
let a: RunningBehalf;

const overrides = {
  rateLimits: {
    signInPerIp: { points: 1000, durationSeconds: 60 },
    signInPerAccount: { points: 3, durationSeconds: 60 },
  },
};

beforeAll(async () => {
  db = await createTestDatabase();
  a = await startBehalf({ database: db, overrides });
});
afterAll(async () => {
  await a?.stop();
  await db?.drop();
});

it('slows down guessing at one account with 429 and Retry-After, whatever the password, and audits it', async () => {
  const refused = await guessPastSignInLimit(a.issuer);
  expect(refused.status).toBe(429);
  expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(refused.html).toContain('Too many sign-in attempts');
  const [event] = (await a.behalf.audit.events.query({ type: 'auth.login.failed' })).events;
  expect(event).toMatchObject({ clientId: 'portal', details: { reason: 'rate_limited', username: 'viewer@example.com' } });
});

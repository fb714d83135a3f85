/** `stores set-policy`: the store's bounds on its customers' say in login on behalf, and self-registration; audited. */
import { runCli } from '../../src/cli/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import pg from 'pg';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

async function cli(...argv: string[]) {
  const result = { code: 0, stdout: '', stderr: '' };
  const io = { stdout: { write: (text: string) => (result.stdout += text) }, stderr: { write: (text: string) => (result.stderr += text) } };
  result.code = await runCli(argv, io, { env: { NODE_ENV: 'test', DATABASE_URL: db.url } });
  return result;
}

async function query<T>(sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

test('sets the policy, says what it now is, and records it; an unknown store is one line and exit 1', async () => {
  const set = await cli('stores', 'set-policy', 'electronics', '--require-approval', '--no-allow-never', '--self-registration');
  expect(set).toMatchObject({ code: 0, stderr: '' });
  expect(set.stdout).toContain('store electronics: require approval yes, "never" allowed no, self-registration on');
  const [row] = await query<{ allow_never: boolean; require_approval: boolean; self_registration: boolean }>(
    `SELECT allow_never, require_approval, self_registration FROM store WHERE slug = 'electronics'`,
  );
  expect(row).toEqual({ allow_never: false, require_approval: true, self_registration: true });
  const [event] = await query<{ actor: string; details: Record<string, unknown> }>(
    `SELECT actor, details FROM audit_event WHERE type = 'admin.store.access_policy_changed' ORDER BY seq DESC LIMIT 1`,
  );
  expect(event!.actor).toMatch(/^cli:/);
  expect(event!.details).toMatchObject({ allow_never: false, require_approval: true, self_registration: true });

  // Only what is named changes.
  expect((await cli('stores', 'set-policy', 'electronics', '--no-require-approval')).stdout).toContain(
    'require approval no, "never" allowed no, self-registration on',
  );
  const unknown = await cli('stores', 'set-policy', 'garden', '--allow-never');
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toMatch(/^behalf: no store garden\n$/);
});

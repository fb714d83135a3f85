/**
 * Behalf on two roles (DATABASE_MIGRATION_URL = the owner, DATABASE_URL = a
 * runtime role): the app appends and reads the audit trail, while the runtime
 * role is refused every step of a rewrite (replica mode, UPDATE/DELETE/INSERT,
 * checkpoint changes, disabling or dropping the triggers). Production refuses
 * to start on a superuser.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadConfig } from '../../config/load.js';
import { runCli } from '../../src/cli/index.js';
import { createLogger } from '../../src/server/observability/logger.js';
import { runtimeRoleFacts } from '../../src/server/db/runtime-role-facts.js';
import { guardRuntimeRole } from '../../src/server/db/runtime-role-guard.js';
import { runtimeRoleProblems } from '../../src/server/db/runtime-role-policy.js';
import { createBehalf } from '../../src/server/system.js';
import { startBehalf, type RunningBehalf } from '../support/behalf.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { tokenRequest } from '../support/oauth.js';

const role = `behalf_runtime_${randomBytes(4).toString('hex')}`;
const password = randomBytes(12).toString('base64url');
let db: TestDatabase;
let runtimeUrl: string;
let running: RunningBehalf;
let runtime: pg.Client;

async function asServerAdmin(sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: process.env.BEHALF_TEST_SERVER_URL });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  await asServerAdmin(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
  const url = new URL(db.url);
  url.username = role;
  url.password = password;
  runtimeUrl = url.toString();
  running = await startBehalf({ database: { ...db, url: runtimeUrl }, env: { DATABASE_MIGRATION_URL: db.url } });
  runtime = new pg.Client({ connectionString: runtimeUrl });
  await runtime.connect();
});

afterAll(async () => {
  await runtime?.end();
  await running?.stop();
  await db?.drop(); // takes the role's privileges with it, so the role can go
  await asServerAdmin(`DROP ROLE IF EXISTS ${role}`);
});

async function lastEvent(): Promise<{ type: string; client_id: string }> {
  const { rows } = await runtime.query('SELECT type, client_id FROM audit_event ORDER BY qid DESC NULLS LAST LIMIT 1');
  return rows[0];
}

describe('the runtime role', () => {
  it('is what Behalf serves with, and is neither superuser nor owner', async () => {
    const facts = await runtimeRoleFacts(running.behalf.dataSource);
    expect(facts).toMatchObject({ role, superuser: false });
    expect(runtimeRoleProblems(facts)).toEqual([]);
  });

  it('still appends through Behalf: a token over HTTP is audited, and the head is sealed', async () => {
    const response = await tokenRequest(running.issuer, 'integrator-demo', 'integrator-demo-secret', {
      grant_type: 'client_credentials',
      scope: 'orders:read',
      resource: 'http://localhost:4003',
    });
    expect(response.status).toBe(200);
    expect(await lastEvent()).toEqual({ type: 'token.issued', client_id: 'integrator-demo' });
    const checkpoint = await running.behalf.audit.checkpoint();
    expect(checkpoint).toBeDefined();
    expect(await running.behalf.audit.verify()).toMatchObject({ ok: true });
  });

  it.each([
    ['SET session_replication_role = replica', /permission denied to set parameter "session_replication_role"/],
    [`UPDATE audit_event SET type = 'auth.logout'`, /permission denied for table audit_event/],
    ['DELETE FROM audit_event', /permission denied for table audit_event/],
    ['TRUNCATE audit_event', /permission denied for table audit_event/],
    [
      `INSERT INTO audit_event (seq, id, occurred_at, type, content_hash, prev_hash, hash)
       VALUES (1000000, gen_random_uuid(), now(), 'auth.logout', repeat('0', 64), repeat('0', 64), repeat('0', 64))`,
      /permission denied for table audit_event/,
    ],
    [`UPDATE audit_event_checkpoint SET hash = repeat('0', 64)`, /permission denied for table audit_event_checkpoint/],
    ['DELETE FROM audit_event_checkpoint', /permission denied for table audit_event_checkpoint/],
    ['TRUNCATE audit_event_checkpoint', /permission denied for table audit_event_checkpoint/],
    ['ALTER TABLE audit_event DISABLE TRIGGER ALL', /must be owner of table audit_event/],
    ['ALTER TABLE audit_event_checkpoint DISABLE TRIGGER ALL', /must be owner of table audit_event_checkpoint/],
    ['DROP TRIGGER audit_event_no_delete ON audit_event', /must be owner of (table|relation) audit_event/],
    ['DROP TRIGGER audit_event_sequence_only ON audit_event', /must be owner of (table|relation) audit_event/],
    [`UPDATE audit_event_node SET hash = repeat('0', 64)`, /permission denied for table audit_event_node/],
    ['DELETE FROM audit_event_node', /permission denied for table audit_event_node/],
    [`UPDATE audit_event_tree_head SET root_hash = repeat('0', 64)`, /permission denied for table audit_event_tree_head/],
    ['DELETE FROM audit_event_tree_head', /permission denied for table audit_event_tree_head/],
    ['ALTER TABLE audit_event_tree_head DISABLE TRIGGER ALL', /must be owner of table audit_event_tree_head/],
    [
      'CREATE OR REPLACE FUNCTION audit_event_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$',
      /permission denied for schema public|must be owner of function audit_event_refuse_change/,
    ],
    ['DELETE FROM migrations', /permission denied for table migrations/],
  ])('is refused: %s', async (sql, refusal) => {
    // Refused by privileges, not by the append-only triggers (whose message is "the audit trail is append-only").
    await expect(runtime.query(sql)).rejects.toThrow(refusal);
  });

  it('may not become the owner', async () => {
    const { rows } = await runtime.query(`SELECT tableowner FROM pg_tables WHERE tablename = 'audit_event'`);
    await expect(runtime.query(`SET ROLE ${runtime.escapeIdentifier(rows[0].tableowner)}`)).rejects.toThrow(
      /permission denied to set role/,
    );
  });

  it('may read and append signed tree heads (the sequencer signs them with it)', async () => {
    const { rows } = await runtime.query('SELECT count(*)::int AS count FROM audit_event_tree_head');
    expect(rows[0].count).toBeGreaterThan(0);
    await expect(runtime.query('SELECT count(*) FROM audit_event_checkpoint')).resolves.toBeDefined();
  });

  it('passes the production check', async () => {
    await expect(guardRuntimeRole(running.behalf.dataSource, 'production', createLogger('silent'))).resolves.toBeUndefined();
  });
});

describe('the CLI on two roles', () => {
  async function cli(...argv: string[]) {
    const out = { code: 0, stdout: '', stderr: '' };
    const io = { stdout: { write: (text: string) => (out.stdout += text) }, stderr: { write: (text: string) => (out.stderr += text) } };
    out.code = await runCli(argv, io, {
      env: { NODE_ENV: 'test', DATABASE_URL: runtimeUrl, DATABASE_MIGRATION_URL: db.url, ISSUER: running.issuer },
    });
    return out;
  }

  it('migrates as the owner and verifies as the runtime role', async () => {
    expect(await cli('migrate')).toMatchObject({ code: 0, stdout: 'database schema is up to date\n' });
    const verified = await cli('audit', 'verify');
    expect(verified).toMatchObject({ code: 0, stderr: '' });
    expect(verified.stdout).toMatch(/^audit chain intact: /);
  });
});

describe('production', () => {
  it('refuses to start when the runtime role is a superuser that owns the audit tables', async () => {
    const config = loadConfig({
      env: {
        NODE_ENV: 'production',
        DATABASE_URL: db.url,
        ISSUER: 'https://behalf.example',
        KEY_ENCRYPTION_KEYS: randomBytes(32).toString('base64url'),
        COOKIE_KEYS: randomBytes(32).toString('base64url'),
        LOG_LEVEL: 'silent',
      },
    });
    await expect(createBehalf(config)).rejects.toThrow(/^database role \S+ is a superuser, .*owns audit_event.*: refused in production/);
  });
});

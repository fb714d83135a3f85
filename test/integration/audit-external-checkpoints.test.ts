/**
 * Signed tree heads outside the database: a log rewritten by someone who
 * owns the database (triggers off, every hash recomputed, the heads in the
 * database dropped) verifies against the database alone, and is caught by
 * `audit verify` through the external copies. And the verdict says plainly
 * when nothing outside the database vouches for the log.
 */
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../../config/load.js';
import { AuditService } from '../../src/server/audit-trail/audit-service.js';
import { contentHash, eventLeafHash } from '../../src/audit/hash.js';
import { AuditSequencer, FileCheckpointArchive, treeHeadFileName } from '../../src/audit/index.js';
import { AUDIT_COLUMNS, toEvent, type AuditRow } from '../../src/audit/rows.js';
import { runCli } from '../../src/cli/index.js';
import { ensureSigningKeys } from '../../src/server/keys/key-store.js';
import type { Logger } from '../../src/server/observability/logger.js';
import { createServices, type Services } from '../../src/server/system.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { eventually } from '../support/poll.js';

const base = mkdtempSync(join(tmpdir(), 'behalf-audit-external-'));

async function cli(env: NodeJS.ProcessEnv, ...argv: string[]) {
  const result = { code: 0, stdout: '', stderr: '' };
  const io = { stdout: { write: (text: string) => (result.stdout += text) }, stderr: { write: (text: string) => (result.stderr += text) } };
  result.code = await runCli(argv, io, { env: { NODE_ENV: 'test', ...env } });
  return result;
}

interface Setup {
  db: TestDatabase;
  services: Services;
  dir: string;
  env: NodeJS.ProcessEnv;
}

async function setup(withDir = true): Promise<Setup> {
  const db = await createTestDatabase();
  const dir = join(mkdtempSync(join(base, 'db-')), 'checkpoints');
  const env = { DATABASE_URL: db.url, ...(withDir ? { AUDIT_CHECKPOINT_DIR: dir } : {}) };
  const services = await createServices(loadConfig({ env: { NODE_ENV: 'test', ...env } }));
  await ensureSigningKeys(services.dataSource, services.sealer);
  return { db, services, dir, env };
}

async function teardown(s: Setup | undefined): Promise<void> {
  await s?.services.database.close();
  await s?.db.drop();
}

async function record(s: Setup, count: number): Promise<void> {
  for (let i = 0; i < count; i += 1)
    await s.services.audit.record({ type: 'auth.login.succeeded', actor: `account-${i}`, details: { n: i } });
}

const headsOutside = (s: Setup) => new FileCheckpointArchive(s.dir, 'audit_event', treeHeadFileName('audit_event')).readAll();

/** Runs `work` as the database's superuser with every trigger off (what an owner could do too). */
async function asOwner(url: string, work: (owner: pg.Client) => Promise<void>): Promise<void> {
  const owner = new pg.Client({ connectionString: url });
  await owner.connect();
  try {
    await owner.query('BEGIN');
    await owner.query('SET LOCAL session_replication_role = replica');
    await work(owner);
    await owner.query('COMMIT');
  } finally {
    await owner.end();
  }
}

/** Rewrites one event's details with every hash recomputed by the log's own formulas, and drops the heads in the database. */
async function rewriteAsOwner(url: string, seq: number): Promise<void> {
  await asOwner(url, async (owner) => {
    await owner.query(`UPDATE audit_event SET details = jsonb_set(details, '{n}', '"forged"') WHERE seq = $1`, [seq]);
    const { rows } = await owner.query(`SELECT ${AUDIT_COLUMNS} FROM audit_event WHERE seq = $1`, [seq]);
    const event = toEvent((rows as AuditRow[])[0]!);
    await owner.query('UPDATE audit_event SET content_hash = $1, leaf_hash = $2 WHERE seq = $3', [
      contentHash(event),
      eventLeafHash(event),
      seq,
    ]);
    await owner.query('DELETE FROM audit_event_tree_head');
  });
}

describe('a log rewritten by the database owner', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup();
  });
  afterAll(() => teardown(s));

  it('writes every tree head to the external folder too', async () => {
    await record(s, 5);
    expect((await cli(s.env, 'audit', 'checkpoint')).code).toBe(0);
    await record(s, 5);
    expect((await cli(s.env, 'audit', 'checkpoint')).code).toBe(0);
    const inDatabase = await s.services.audit.treeHeads();
    const outside = await headsOutside(s);
    expect(outside.map(({ seq, hash, jws }) => ({ seq, hash, jws }))).toEqual(
      inDatabase.map(({ treeSize, rootHash, jws }) => ({ seq: treeSize, hash: rootHash, jws })),
    );
    expect(outside.map(({ seq }) => seq)).toEqual([5, 10]);
    const verified = await cli(s.env, 'audit', 'verify', '--strict');
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(
      /^audit chain intact: 10 events, .*newest signed tree head of size 10 \(.*\), 2 outside the database\n$/,
    );
  });

  it('verifies against the database alone, and is caught through the external tree heads', async () => {
    await record(s, 3); // newer than the last head
    await new AuditSequencer(s.services.dataSource).drain(); // sequenced, not yet signed
    await rewriteAsOwner(s.db.url, 7);

    const withoutCopies = await cli({ DATABASE_URL: s.db.url }, 'audit', 'verify');
    expect(withoutCopies.code).toBe(0); // the exit code for an intact log, but it says why that proves little
    expect(withoutCopies.stdout).toMatch(/\nwarning: no checkpoint at all for 13 events: cannot rule out a rewritten chain/);
    expect(withoutCopies.stdout).toMatch(/\nwarning: no external checkpoints: none configured or given/);

    const caught = await cli(s.env, 'audit', 'verify');
    expect(caught.code).toBe(1);
    expect(caught.stdout).toMatch(
      /^audit chain BROKEN at seq 6: the log was rewritten: events 1–10 do not hash to the root of the external tree head signed at /,
    );

    const copy = join(base, 'auditors-copy');
    cpSync(s.dir, copy, { recursive: true });
    const fromCopy = await cli({ DATABASE_URL: s.db.url }, 'audit', 'verify', '--checkpoints', copy);
    expect(fromCopy.code).toBe(1);
    expect(fromCopy.stdout).toMatch(/^audit chain BROKEN at seq 6: the log was rewritten/);
    expect((await s.services.audit.verify()).ok).toBe(false); // what GET /admin/audit/status reports
  });
});

describe('a log cut back, tree heads in the database dropped', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup();
  });
  afterAll(() => teardown(s));

  it('is caught: the newest external tree head covers more events than are left', async () => {
    await record(s, 3);
    const sealed = (await s.services.audit.checkpoint())!;
    await asOwner(s.db.url, async (owner) => {
      await owner.query('DELETE FROM audit_event WHERE seq > $1', [sealed.treeSize - 2]);
      await owner.query('DELETE FROM audit_event_tree_head');
    });
    expect((await cli({ DATABASE_URL: s.db.url }, 'audit', 'verify')).code).toBe(0); // nothing inside the database can tell
    const caught = await cli(s.env, 'audit', 'verify');
    expect(caught.code).toBe(1);
    expect(caught.stdout).toMatch(
      new RegExp(
        `^audit chain BROKEN at seq ${sealed.treeSize - 1}: events ${sealed.treeSize - 1}–${sealed.treeSize} are missing: an external tree head signed at .* covers ${sealed.treeSize} events \\(truncated tail\\)`,
      ),
    );
  });
});

describe('when nothing outside the database vouches for the log', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup();
  });
  afterAll(() => teardown(s));

  it('says so, and --strict exits 2', async () => {
    await record(s, 2);
    await new AuditSequencer(s.services.dataSource).drain(); // sequenced, no head signed
    const none = await cli(s.env, 'audit', 'verify');
    expect(none.code).toBe(0);
    expect(none.stdout).toMatch(/^audit chain intact: 2 events, no checkpoint yet\n/);
    expect(none.stdout).toContain('warning: no checkpoint at all for');
    expect(none.stdout).toContain('cannot rule out a rewritten chain');
    expect(none.stdout).toContain(`warning: no external checkpoints: none in ${join(s.dir, 'audit_event.checkpoints.jsonl')}`);
    expect((await cli(s.env, 'audit', 'verify', '--strict')).code).toBe(2);

    // Signed in the database only: still nothing outside to compare with.
    const databaseOnly = { DATABASE_URL: s.db.url };
    expect((await cli(databaseOnly, 'audit', 'checkpoint')).code).toBe(0);
    const sealedInside = await cli(databaseOnly, 'audit', 'verify', '--strict');
    expect(sealedInside.code).toBe(2);
    expect(sealedInside.stdout).not.toContain('cannot rule out');
    expect(sealedInside.stdout).toContain('warning: no external checkpoints: none configured or given');

    await record(s, 1);
    expect((await cli(s.env, 'audit', 'checkpoint')).code).toBe(0);
    expect(await cli(s.env, 'audit', 'verify', '--strict')).toMatchObject({ code: 0, stderr: '' });
  });
});

function silentLogger(sink: unknown[][] = []): Logger {
  const log =
    (level: string) =>
    (...args: unknown[]) =>
      void sink.push([level, ...args]);
  return { error: log('error'), warn: log('warn'), info: log('info'), debug: log('debug') } as unknown as Logger;
}

describe('a failed external write', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup();
  });
  afterAll(() => teardown(s));

  it('signs nothing, logs an error without the head, and the next tick retries', async () => {
    await record(s, 2);
    const blocker = join(base, 'not-a-folder');
    writeFileSync(blocker, '');
    const logged: unknown[][] = [];
    const service = (archive: FileCheckpointArchive, logger: Logger) =>
      new AuditService(s.services.dataSource, s.services.sealer, s.services.config.issuer, logger, undefined, archive, {
        intervalMs: 20,
        treeHeadMs: 100,
      });
    const broken = service(
      new FileCheckpointArchive(join(blocker, 'heads'), 'audit_event', treeHeadFileName('audit_event')),
      silentLogger(logged),
    );
    await expect(broken.checkpoint()).rejects.toThrow(/cannot append to .*: ENOTDIR/);
    expect(await s.services.audit.treeHeads()).toEqual([]); // outside first: no head only the database holds

    await record(s, 1);
    broken.startSequencer();
    try {
      await eventually(async () => logged.some(([level]) => level === 'error'), { what: 'an error logged' });
    } finally {
      await broken.stop();
    }
    const [, message, meta] = logged.find(([level]) => level === 'error')!;
    expect(message).toMatch(/audit tree head not signed \(retrying at the next tick\)/);
    expect(JSON.stringify(meta)).not.toMatch(/eyJ/); // no JWS, no key material

    const working = service(new FileCheckpointArchive(s.dir, 'audit_event', treeHeadFileName('audit_event')), silentLogger());
    working.startSequencer();
    try {
      await eventually(async () => (await s.services.audit.treeHeads()).length === 1, { what: 'a head signed' });
    } finally {
      await working.stop();
    }
    expect(await headsOutside(s)).toHaveLength(1);
  });
});

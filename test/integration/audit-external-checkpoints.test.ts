/**
 * Checkpoints outside the database: a chain rewritten by someone who owns
 * the database (triggers off, every hash recomputed, the checkpoints in the
 * database dropped) verifies against the database alone, and is caught by
 * `audit verify` through the external copies. And the verdict says plainly
 * when nothing outside the database vouches for the chain.
 */
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../../config/load.js';
import { AuditService } from '../../src/server/audit-trail/audit-service.js';
import { contentHash, linkHash } from '../../src/audit/hash.js';
import { FileCheckpointArchive, jwksCheckpointVerifier, verifyChain } from '../../src/audit/index.js';
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

/** Rewrites one event's details, recomputes every hash from there with the chain's own formula, drops the checkpoints. */
async function rewriteAsOwner(url: string, seq: number): Promise<void> {
  await asOwner(url, async (owner) => {
    await owner.query(`UPDATE audit_event SET details = jsonb_set(details, '{n}', '"forged"') WHERE seq = $1`, [seq]);
    let prev = (await owner.query('SELECT hash FROM audit_event WHERE seq = $1', [seq - 1])).rows[0].hash as string;
    const { rows } = await owner.query(`SELECT ${AUDIT_COLUMNS} FROM audit_event WHERE seq >= $1 ORDER BY seq`, [seq]);
    for (const event of (rows as AuditRow[]).map(toEvent)) {
      const content = contentHash(event);
      const hash = linkHash(prev, event.seq, content);
      await owner.query('UPDATE audit_event SET content_hash = $1, prev_hash = $2, hash = $3 WHERE seq = $4', [
        content,
        prev,
        hash,
        event.seq,
      ]);
      prev = hash;
    }
    await owner.query('DELETE FROM audit_event_checkpoint');
  });
}

describe('a chain rewritten by the database owner', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup();
  });
  afterAll(() => teardown(s));

  it('writes every checkpoint to the external folder too', async () => {
    await record(s, 5);
    expect((await cli(s.env, 'audit', 'checkpoint')).code).toBe(0);
    await record(s, 5);
    expect((await cli(s.env, 'audit', 'checkpoint')).code).toBe(0);
    const inDatabase = await s.services.audit.events.checkpoints();
    const outside = await new FileCheckpointArchive(s.dir, 'audit_event').readAll();
    expect(outside.map(({ seq, hash, jws }) => ({ seq, hash, jws }))).toEqual(inDatabase.map(({ seq, hash, jws }) => ({ seq, hash, jws })));
    expect(outside).toHaveLength(2);
    const verified = await cli(s.env, 'audit', 'verify', '--strict');
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(
      /^audit chain intact: \d+ events, last checkpoint at seq \d+ \(.*\); 2 external checkpoints \(.*audit_event\.checkpoints\.jsonl\), newest at seq \d+\n$/,
    );
  });

  it('verifies against the database alone, and is caught through the external checkpoints', async () => {
    await record(s, 3); // newer than the last checkpoint
    const [first, second] = await s.services.audit.events.checkpoints();
    const target = second!.seq - 4; // after the first checkpoint, before the second
    expect(target).toBeGreaterThan(first!.seq);
    await rewriteAsOwner(s.db.url, target);

    const verifier = jwksCheckpointVerifier(await s.services.audit.verificationKeys(), s.services.config.issuer);
    const databaseOnly = await verifyChain(
      'audit_event',
      s.services.audit.events.stream(),
      await s.services.audit.events.checkpoints(),
      verifier,
    );
    expect(databaseOnly).toMatchObject({ ok: true, checkpoints: 0 });

    const withoutCopies = await cli({ DATABASE_URL: s.db.url }, 'audit', 'verify');
    expect(withoutCopies.code).toBe(0); // today's exit code for an intact chain, but it says why that proves little
    expect(withoutCopies.stdout).toMatch(/\nwarning: no checkpoint at all for \d+ events: cannot rule out a rewritten chain/);
    expect(withoutCopies.stdout).toMatch(/\nwarning: no external checkpoints: none configured or given/);

    const caught = await cli(s.env, 'audit', 'verify');
    expect(caught.code).toBe(1);
    expect(caught.stdout).toMatch(
      new RegExp(
        `^audit chain BROKEN at seq ${first!.seq + 1}: the chain was rewritten: event ${second!.seq} does not match the external checkpoint signed at `,
      ),
    );

    const copy = join(base, 'auditors-copy');
    cpSync(s.dir, copy, { recursive: true });
    const fromCopy = await cli({ DATABASE_URL: s.db.url }, 'audit', 'verify', '--checkpoints', copy);
    expect(fromCopy.code).toBe(1);
    expect(fromCopy.stdout).toMatch(new RegExp(`^audit chain BROKEN at seq ${first!.seq + 1}: the chain was rewritten`));
    expect((await s.services.audit.verify()).ok).toBe(false); // what GET /admin/audit/status reports
  });
});

describe('a chain cut back, checkpoints in the database dropped', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup();
  });
  afterAll(() => teardown(s));

  it('is caught: the newest external checkpoint is beyond the last event', async () => {
    await record(s, 3);
    const sealed = (await s.services.audit.checkpoint())!;
    await asOwner(s.db.url, async (owner) => {
      await owner.query('DELETE FROM audit_event WHERE seq > $1', [sealed.seq - 2]);
      await owner.query('DELETE FROM audit_event_checkpoint');
    });
    expect((await cli({ DATABASE_URL: s.db.url }, 'audit', 'verify')).code).toBe(0); // nothing inside the database can tell
    const caught = await cli(s.env, 'audit', 'verify');
    expect(caught.code).toBe(1);
    expect(caught.stdout).toMatch(
      new RegExp(
        `^audit chain BROKEN at seq ${sealed.seq - 1}: events ${sealed.seq - 1}–${sealed.seq} are missing: an external checkpoint signed at .* covers seq ${sealed.seq} \\(truncated tail\\)`,
      ),
    );
  });
});

describe('when nothing outside the database vouches for the chain', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup();
  });
  afterAll(() => teardown(s));

  it('says so, and --strict exits 2', async () => {
    await record(s, 2);
    const none = await cli(s.env, 'audit', 'verify');
    expect(none.code).toBe(0);
    expect(none.stdout).toMatch(/^audit chain intact: \d+ events, no checkpoint yet\n/);
    expect(none.stdout).toContain('warning: no checkpoint at all for');
    expect(none.stdout).toContain('cannot rule out a rewritten chain');
    expect(none.stdout).toContain(`warning: no external checkpoints: none in ${join(s.dir, 'audit_event.checkpoints.jsonl')}`);
    expect((await cli(s.env, 'audit', 'verify', '--strict')).code).toBe(2);

    // Sealed in the database only (as before this change): still no external checkpoint to compare with.
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

  it('seals nothing, logs an error without the checkpoint, and the next interval retries', async () => {
    await record(s, 2);
    const blocker = join(base, 'not-a-folder');
    writeFileSync(blocker, '');
    const logged: unknown[][] = [];
    const broken = new AuditService(
      s.services.dataSource,
      s.services.sealer,
      s.services.config.issuer,
      silentLogger(logged),
      new FileCheckpointArchive(join(blocker, 'checkpoints'), 'audit_event'),
    );
    await expect(broken.checkpoint()).rejects.toThrow(/cannot append to .*: ENOTDIR/);
    expect(await s.services.audit.events.checkpoints()).toEqual([]); // external first: no checkpoint only the database holds

    broken.startCheckpoints(0.05);
    try {
      await eventually(async () => logged.some(([level]) => level === 'error'), { what: 'an error logged' });
    } finally {
      broken.stop();
    }
    const [, message, meta] = logged.find(([level]) => level === 'error')!;
    expect(message).toMatch(/audit checkpoint not sealed: its external copy could not be written; retrying at the next interval/);
    expect(JSON.stringify(meta)).not.toMatch(/eyJ/); // no JWS, no key material

    const working = new AuditService(
      s.services.dataSource,
      s.services.sealer,
      s.services.config.issuer,
      silentLogger(),
      new FileCheckpointArchive(s.dir, 'audit_event'),
    );
    working.startCheckpoints(0.05);
    try {
      await eventually(async () => (await s.services.audit.events.checkpoints()).length === 1, { what: 'a checkpoint sealed' });
    } finally {
      working.stop();
    }
    expect(await new FileCheckpointArchive(s.dir, 'audit_event').readAll()).toHaveLength(1);
  });
});

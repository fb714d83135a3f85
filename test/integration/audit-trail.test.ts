/**
 * The audit trail against real PostgreSQL: events chained before the Merkle
 * log (written by the old append function, then migrated by 1795543000000)
 * keep verifying by the chain rules; append-only enforcement, tamper
 * detection (with the triggers disabled inside the test), concurrency,
 * fail-closed writes and offline export verification.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type { DataSource } from 'typeorm';
import {
  AuditRepository,
  AuditWriter,
  createCheckpoint,
  describeVerification,
  exportChain,
  jwkCheckpointSigner,
  jwksCheckpointVerifier,
  readExport,
  verifyChain,
  type CheckpointSigner,
  type CheckpointVerifier,
} from '../../src/audit/index.js';
import {
  AuditSequencer,
  jwkTreeHeadSigner,
  jwksTreeHeadVerifier,
  verifyProofBundle,
  INCLUSION_FORMAT,
  auditEventToJson,
  type TreeHeadSigner,
} from '../../src/audit/index.js';
import { contentHash, linkHash } from '../../src/audit/hash.js';
import { AuditMerkleLog1795543000000 } from '../../migrations/1795543000000-audit-merkle-log.js';
import { createDataSource } from '../../src/server/db/data-source.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const ISSUER = 'https://behalf.test';
let signer: CheckpointSigner;
let verifier: CheckpointVerifier;
let headSigner: TreeHeadSigner;
let publicJwk: JWK;

beforeAll(async () => {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const privateJwk = { ...(await exportJWK(privateKey)), kid: 'test-key', alg: 'ES256' };
  publicJwk = { ...(await exportJWK(publicKey)), kid: 'test-key', alg: 'ES256' };
  signer = jwkCheckpointSigner(privateJwk, ISSUER);
  headSigner = jwkTreeHeadSigner(privateJwk, ISSUER);
  verifier = jwksCheckpointVerifier({ keys: [publicJwk] }, ISSUER);
});

interface Fixture {
  db: TestDatabase;
  dataSource: DataSource;
  writer: AuditWriter;
  store: AuditRepository;
  close(): Promise<void>;
}

async function fixture(legacy?: (f: Fixture) => Promise<void>): Promise<Fixture> {
  const db = await createTestDatabase();
  const dataSource = createDataSource({ url: db.url, poolSize: 25 });
  await dataSource.initialize();
  if (legacy) {
    // Back to the chained schema, write through the old append function, migrate forward again.
    const runner = dataSource.createQueryRunner();
    await new AuditMerkleLog1795543000000().down(runner);
    await legacy({ db, dataSource } as Fixture);
    await new AuditMerkleLog1795543000000().up(runner);
    await runner.release();
  }
  return {
    db,
    dataSource,
    writer: new AuditWriter(),
    store: new AuditRepository(dataSource),
    async close() {
      await dataSource.destroy();
      await db.drop();
    },
  };
}

/** What the writer did before the Merkle log: the chained append function, which computed seq and the link under a lock. */
async function chainedAppend(
  dataSource: DataSource,
  input: { type: string; actor: string; details: Record<string, unknown> },
): Promise<void> {
  const event = {
    id: randomUUID(),
    occurredAt: new Date(),
    type: input.type,
    actor: input.actor,
    subject: input.actor,
    clientId: 'portal',
    sessionId: null,
    ip: null,
    userAgent: null,
    details: input.details as never,
  };
  await dataSource.query(`SELECT seq, hash FROM audit_event_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, [
    event.id,
    event.occurredAt,
    event.type,
    event.actor,
    event.subject,
    event.clientId,
    null,
    null,
    null,
    JSON.stringify(event.details),
    contentHash(event),
  ]);
}

/** 30 chained events, a checkpoint after every 10. */
async function writeThirty(f: Fixture): Promise<void> {
  for (let i = 1; i <= 30; i += 1) {
    await chainedAppend(f.dataSource, { type: 'auth.login.succeeded', actor: `account-${i % 3}`, details: { n: i, note: 'ünïcode ✓' } });
    if (i % 10 === 0) await createCheckpoint(f.dataSource, 'audit_event', signer);
  }
}

async function verify(f: Fixture) {
  const sequencer = new AuditSequencer(f.dataSource);
  return verifyChain('audit_event', f.store.stream(7), await f.store.checkpoints(), verifier, undefined, {
    heads: await sequencer.store.treeHeads(f.dataSource),
    verify: jwksTreeHeadVerifier({ keys: [publicJwk] }, ISSUER),
  });
}

async function withoutTriggers(f: Fixture, work: () => Promise<void>): Promise<void> {
  await f.dataSource.query('ALTER TABLE audit_event DISABLE TRIGGER ALL');
  try {
    await work();
  } finally {
    await f.dataSource.query('ALTER TABLE audit_event ENABLE TRIGGER ALL');
  }
}

describe('append-only storage', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await fixture(writeThirty);
  });
  afterAll(() => f.close());

  it.each([
    ['UPDATE', `UPDATE audit_event SET type = 'auth.logout' WHERE seq = 1`],
    ['DELETE', 'DELETE FROM audit_event WHERE seq = 1'],
    ['TRUNCATE', 'TRUNCATE audit_event'],
    ['UPDATE of a checkpoint', `UPDATE audit_event_checkpoint SET hash = repeat('0', 64)`],
    ['DELETE of a checkpoint', 'DELETE FROM audit_event_checkpoint'],
    ['TRUNCATE of checkpoints', 'TRUNCATE audit_event_checkpoint'],
  ])('refuses %s', async (_name, sql) => {
    await expect(f.dataSource.query(sql)).rejects.toThrow(/append-only/);
  });

  it('verifies an untouched chain', async () => {
    const result = await verify(f);
    expect(result).toMatchObject({ ok: true, events: 30, lastSeq: 30 });
    expect(describeVerification(result)).toMatch(/^audit chain intact: 30 events, last checkpoint at seq 30 /);
  });

  it('queries by actor, type prefix and pages newest first', async () => {
    const first = await f.store.query({ actor: 'account-1', type: 'auth.*', limit: 4 });
    expect(first.events.map((event) => event.seq)).toEqual([28, 25, 22, 19]);
    const second = await f.store.query({ actor: 'account-1', limit: 4, before: first.nextBefore });
    expect(second.events[0]!.seq).toBe(16);
    expect((await f.store.query({ type: 'token.issued' })).events).toHaveLength(0);
  });
});

describe('tamper detection (triggers disabled by the attacker)', () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await fixture(writeThirty);
  });
  afterEach(() => f.close());

  it('catches an altered row', async () => {
    await withoutTriggers(f, () =>
      f.dataSource.query(`UPDATE audit_event SET details = '{"n": 999}' WHERE seq = 15`).then(() => undefined),
    );
    const result = await verify(f);
    expect(result.ok).toBe(false);
    expect(result.problem).toMatchObject({ seq: 15 });
    expect(describeVerification(result)).toMatch(/^audit chain BROKEN at seq 15: event 15 was altered/);
  });

  it('catches a deleted row', async () => {
    await withoutTriggers(f, () => f.dataSource.query('DELETE FROM audit_event WHERE seq = 15').then(() => undefined));
    expect((await verify(f)).problem).toMatchObject({ seq: 15, reason: expect.stringMatching(/event 15 is missing/) });
  });

  it('catches a truncated tail through the last checkpoint', async () => {
    await withoutTriggers(f, () => f.dataSource.query('DELETE FROM audit_event WHERE seq > 25').then(() => undefined));
    expect((await verify(f)).problem).toMatchObject({ seq: 26, reason: expect.stringMatching(/events 26–30 are missing.*truncated tail/) });
  });

  it('catches a chain recomputed after an edit', async () => {
    await withoutTriggers(f, async () => {
      // The attacker edits event 15 and recomputes every hash after it, so the chain is self-consistent.
      await f.dataSource.query(`UPDATE audit_event SET actor = 'someone-else' WHERE seq = 15`);
      const rows = [];
      for await (const event of f.store.stream()) rows.push(event);
      let prev = rows[13]!.hash!;
      for (const event of rows.slice(14)) {
        const content = contentHash(event);
        const hash = linkHash(prev, event.seq!, content);
        await f.dataSource.query('UPDATE audit_event SET content_hash = $1, prev_hash = $2, hash = $3 WHERE seq = $4', [
          content,
          prev,
          hash,
          event.seq,
        ]);
        prev = hash;
      }
    });
    const result = await verify(f);
    expect(result.problem).toMatchObject({ seq: 11, reason: expect.stringMatching(/rewritten.*events 11–20 cannot be trusted/) });
  });

  it('catches a forged checkpoint', async () => {
    await f.dataSource.query('ALTER TABLE audit_event_checkpoint DISABLE TRIGGER ALL');
    await f.dataSource.query(`UPDATE audit_event_checkpoint SET hash = repeat('a', 64) WHERE seq = 20`);
    await f.dataSource.query('ALTER TABLE audit_event_checkpoint ENABLE TRIGGER ALL');
    expect((await verify(f)).problem).toMatchObject({ seq: 20, reason: expect.stringMatching(/does not match what was signed/) });
  });
});

describe('concurrency and failure', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await fixture();
  });
  afterAll(() => f.close());

  it('keeps the log whole under 20 concurrent writers, losing nothing', async () => {
    const writers = Array.from({ length: 20 }, (_, w) =>
      (async () => {
        for (let i = 0; i < 25; i += 1) {
          await f.writer.withEvent(f.dataSource, async (manager) => {
            await manager.query('SELECT 1');
            return { result: undefined, event: { type: 'token.issued', actor: `writer-${w}`, details: { i } } };
          });
        }
      })(),
    );
    await Promise.all(writers);
    await new AuditSequencer(f.dataSource, 'audit_event', { signer: async () => headSigner }).drain();
    const result = await verify(f);
    expect(result).toMatchObject({ ok: true, events: 500, lastSeq: 500, log: { missingQids: [], lastTreeHead: { treeSize: 500 } } });
    const [{ count }] = (await f.dataSource.query(`SELECT count(DISTINCT (actor, details->>'i'))::int AS count FROM audit_event`)) as [
      { count: number },
    ];
    expect(count).toBe(500);
  });

  it('rolls back the caller when the audit write fails (fail closed)', async () => {
    const broken = new AuditWriter('audit_event_missing');
    await expect(
      broken.withEvent(f.dataSource, async (manager) => {
        await manager.query(`INSERT INTO store (slug, name) VALUES ('rolled-back', 'Rolled back')`);
        return { result: 'done', event: { type: 'admin.store.created', actor: 'test' } };
      }),
    ).rejects.toThrow();
    expect(await f.dataSource.query(`SELECT 1 FROM store WHERE slug = 'rolled-back'`)).toHaveLength(0);
  });

  it('refuses a malformed event type before touching the database', async () => {
    await expect(f.writer.append(f.dataSource, { type: 'Not A Type' as never })).rejects.toThrow(/invalid audit event type/);
  });

  it('stores hostile text safely (NUL and control characters)', async () => {
    const appended = await f.writer.append(f.dataSource, {
      type: 'auth.login.failed',
      userAgent: 'evil\u0000agent\u0007',
      details: { username: 'a\u0000b' },
    });
    const [event] = (await f.store.query({ type: 'auth.login.failed' })).events;
    expect(event!.qid).toBe(appended.qid);
    expect(event!.userAgent).toBe('evilagent');
    expect((await verify(f)).ok).toBe(true);
  });
});

describe('export and offline verification', () => {
  let f: Fixture;
  let file: string;
  beforeAll(async () => {
    f = await fixture(writeThirty);
    file = join(mkdtempSync(join(tmpdir(), 'behalf-audit-')), 'audit.jsonl');
    const lines: string[] = [];
    const count = await exportChain(f.store, { table: 'audit_event', issuer: ISSUER, keys: { keys: [publicJwk] } }, (line) => {
      lines.push(line);
    });
    expect(count).toBe(30);
    writeFileSync(file, `${lines.join('\n')}\n`);
  });
  afterAll(() => f.close());

  it('round-trips: the export verifies offline with the keys it carries', async () => {
    const parsed = await readExport(file);
    const result = await verifyChain(
      parsed.header.table,
      parsed.events,
      parsed.checkpoints,
      jwksCheckpointVerifier(parsed.header.keys, parsed.header.issuer),
    );
    expect(result).toMatchObject({ ok: true, events: 30, lastCheckpoint: { seq: 30 } });
  });

  it('detects an edit made to the exported file', async () => {
    const tampered = readFileSync(file, 'utf8').replace('"n":7,', '"n":8,');
    const copy = `${file}.tampered`;
    writeFileSync(copy, tampered);
    const parsed = await readExport(copy);
    const result = await verifyChain(parsed.header.table, parsed.events, parsed.checkpoints, verifier);
    expect(result.problem).toMatchObject({ seq: 7 });
  });
});

describe('the Merkle log over a migrated chain', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await fixture(writeThirty);
  });
  afterAll(() => f.close());

  it('puts the chained events in the tree, new events after them, and verifies both by their rules', async () => {
    for (let i = 0; i < 5; i += 1) await f.writer.append(f.dataSource, { type: 'token.issued', actor: 'client:new', details: { i } });
    const sequencer = new AuditSequencer(f.dataSource, 'audit_event', { batchSize: 7, signer: async () => headSigner });
    const head = await sequencer.drain();
    expect(head).toMatchObject({ treeSize: 35 });
    const result = await verify(f);
    expect(result).toMatchObject({
      ok: true,
      events: 35,
      lastCheckpoint: { seq: 30 },
      log: { lastTreeHead: { treeSize: 35 }, missingQids: [] },
    });

    // A chained event has an inclusion proof too: its leaf names its chain hash.
    const chained = await f.store.at(3);
    const proof = {
      format: INCLUSION_FORMAT,
      table: 'audit_event',
      issuer: ISSUER,
      seq: 3,
      leaf_index: 2,
      event: auditEventToJson(chained!),
      tree_head: { tree_size: 35, root_hash: head!.rootHash, created_at: head!.createdAt.toISOString(), jws: head!.jws },
      inclusion_path: await sequencer.store.inclusionPath(f.dataSource, 3, 35),
      keys: { keys: [publicJwk] },
    };
    expect(await verifyProofBundle(proof, { keys: { keys: [publicJwk] } })).toMatchObject({ ok: true });
  });

  it('still catches an edit of a chained event, by the chain rules', async () => {
    await withoutTriggers(f, () =>
      f.dataSource.query(`UPDATE audit_event SET details = '{"n": 999}' WHERE seq = 12`).then(() => undefined),
    );
    expect((await verify(f)).problem).toMatchObject({ seq: 12, reason: 'event 12 was altered (its content does not match its hash)' });
  });
});

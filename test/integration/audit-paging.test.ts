/**
 * Paging through the audit log newest first while the sequencer works
 * between pages: every event exactly once, in one order that sequencing
 * never changes (log events by queue id, then the events chained before the
 * log by seq), with cursors that say where a page ended. Against real
 * PostgreSQL, with the real sequencer.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import {
  AuditCursorError,
  AuditRepository,
  AuditSequencer,
  AuditWriter,
  MAX_PENDING_MS,
  describeVerification,
  jwksCheckpointVerifier,
  parseAuditCursor,
  verifyChain,
  type AuditQuery,
  type StoredAuditEvent,
} from '../../src/audit/index.js';
import { contentHash } from '../../src/audit/hash.js';
import { AuditMerkleLog1795543000000 } from '../../migrations/1795543000000-audit-merkle-log.js';
import { AuditPagingIndexes1795545000000 } from '../../migrations/1795545000000-audit-paging-indexes.js';
import { createDataSource } from '../../src/server/db/data-source.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const T = 'audit_event';
const writer = new AuditWriter();
let db: TestDatabase;
let dataSource: DataSource;

beforeEach(async () => {
  db = await createTestDatabase();
  dataSource = createDataSource({ url: db.url, poolSize: 6 });
  await dataSource.initialize();
});

afterEach(async () => {
  if (dataSource?.isInitialized) await dataSource.destroy();
  await db?.drop();
});

const append = (n: number, actor = 'client:pager') =>
  writer.append(dataSource, { type: 'token.issued', actor, details: { n } }).then((appended) => appended.qid);

/** The sequencer's own work, a batch at a time (no tree heads: none are needed to page). */
const sequenceAll = () => new AuditSequencer(dataSource, T, { batchSize: 3 }).drain();

/** Every page of `query`, calling `between` after each one; the pages' events in order. */
async function pageThrough(query: AuditQuery, between: (page: number) => Promise<void>): Promise<StoredAuditEvent[]> {
  const store = new AuditRepository(dataSource);
  const seen: StoredAuditEvent[] = [];
  let before: string | undefined;
  for (let page = 0; page < 100; page += 1) {
    const result = await store.query({ ...query, ...(before ? { before } : {}) });
    seen.push(...result.events);
    if (!result.nextBefore) return seen;
    expect(() => parseAuditCursor(result.nextBefore!)).not.toThrow();
    before = result.nextBefore;
    await between(page);
  }
  throw new Error('paging did not end');
}

/** The order the pages promise: log events by queue id, newest first, then chained events by seq. */
function inPagingOrder(events: StoredAuditEvent[]): StoredAuditEvent[] {
  return [...events].sort((a, b) =>
    a.qid !== null && b.qid !== null ? b.qid - a.qid : a.qid !== null ? -1 : b.qid !== null ? 1 : b.seq! - a.seq!,
  );
}

async function everything(): Promise<StoredAuditEvent[]> {
  return pageThrough({ limit: 500 }, async () => undefined);
}

describe('paging the audit log', () => {
  it('returns every event exactly once, newest first, while pending events are sequenced between pages', async () => {
    const qids: number[] = [];
    for (let n = 0; n < 10; n += 1) qids.push(await append(n));
    await sequenceAll();
    // A transaction that took its queue id early and commits late (qid order is not commit order).
    const late = dataSource.createQueryRunner();
    await late.connect();
    await late.startTransaction();
    const lateQid = (await writer.append(late.manager, { type: 'token.issued', actor: 'client:pager', details: { n: 'late' } })).qid;
    qids.push(lateQid);
    for (let n = 10; n < 27; n += 1) qids.push(await append(n));
    const before = await new AuditRepository(dataSource).mark();
    // The first page: all pending (the old cursor, a seq, had nothing to point at).
    let committedLate = false;
    const seen = await pageThrough({ actor: 'client:pager', limit: 4 }, async (page) => {
      // Between pages: everything pending gets its seq, newer events arrive, and the late one commits.
      if (page === 1) {
        await late.commitTransaction();
        await late.release();
        committedLate = true;
      }
      await append(100 + page);
      await sequenceAll();
    });
    expect(committedLate).toBe(true);

    const ids = seen.map((event) => event.id);
    expect(new Set(ids).size).toBe(ids.length);
    // Exactly the events appended before paging started (the late one included: it committed before its place came up);
    // none of those appended meanwhile (newer than the first page).
    expect(seen.map((event) => event.qid)).toEqual([...qids].sort((a, b) => b - a));
    expect(seen.filter((event) => event.qid! > before)).toEqual([]);
    expect(seen.map((event) => event.qid)).toEqual(inPagingOrder(seen).map((event) => event.qid));
    // The first page was all pending when read; the later ones had been sequenced meanwhile.
    expect(seen.slice(0, 4).every((event) => event.seq === null)).toBe(true);
    expect(seen.slice(8).every((event) => event.seq !== null)).toBe(true);
  });

  it('follows a page of pending events with the next older ones once they are sequenced (a seq cursor repeated them)', async () => {
    const qids: number[] = [];
    for (let n = 0; n < 6; n += 1) qids.push(await append(n));
    const store = new AuditRepository(dataSource);
    const first = await store.query({ limit: 3 });
    expect(first.events.every((event) => event.seq === null)).toBe(true);
    expect(first.events.map((event) => event.qid)).toEqual(qids.slice(3).reverse());
    expect(first.nextBefore).toBe(`q${qids[3]}`);
    await sequenceAll();
    const second = await store.query({ limit: 3, before: first.nextBefore! });
    expect(second.events.map((event) => event.qid)).toEqual(qids.slice(0, 3).reverse());
    expect(second.nextBefore).toBeUndefined();
  });

  it('refuses a malformed cursor', async () => {
    const store = new AuditRepository(dataSource);
    for (const bad of ['', '12', 'q', 'q0', 's-1', 'x5', 'q1.5', 'q99999999999999999', ' q1', 'q1 '])
      await expect(store.query({ before: bad })).rejects.toBeInstanceOf(AuditCursorError);
  });
});

/** What the writer did before the Merkle log: the chained append, under its lock. */
async function chainedAppend(n: number, actor: string): Promise<void> {
  const event = {
    id: randomUUID(),
    occurredAt: new Date(),
    type: 'auth.login.succeeded',
    actor,
    subject: actor,
    clientId: 'portal',
    sessionId: null,
    ip: null,
    userAgent: null,
    details: { n } as never,
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

describe('paging a log with events chained before it', () => {
  beforeEach(async () => {
    // Back to the chained schema, 12 chained events, then forward again (indexes included).
    const runner = dataSource.createQueryRunner();
    await new AuditPagingIndexes1795545000000().down(runner);
    await new AuditMerkleLog1795543000000().down(runner);
    for (let n = 1; n <= 12; n += 1) await chainedAppend(n, n % 2 ? 'account-odd' : 'account-even');
    await new AuditMerkleLog1795543000000().up(runner);
    await new AuditPagingIndexes1795545000000().up(runner);
    await runner.release();
  });

  it.each([1, 3, 5, 7, 100])('pages log events by queue id, then chained ones by seq (limit %i)', async (limit) => {
    for (let n = 0; n < 5; n += 1) await append(n, 'account-odd');
    await new AuditSequencer(dataSource, T).drain(); // the chained events first, then these
    for (let n = 5; n < 9; n += 1) await append(n, n % 2 ? 'account-odd' : 'account-even');
    const all = await pageThrough({ limit }, async () => {
      await sequenceAll();
    });
    expect(all.map((event) => event.qid ?? `s${event.seq}`)).toEqual([
      ...[9, 8, 7, 6, 5, 4, 3, 2, 1],
      ...[12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1].map((seq) => `s${seq}`),
    ]);
    const odd = await pageThrough({ actor: 'account-odd', limit }, async () => undefined);
    expect(odd.map((event) => event.qid ?? `s${event.seq}`)).toEqual([8, 6, 5, 4, 3, 2, 1, 's11', 's9', 's7', 's5', 's3', 's1']);
    const chainedOnly = await new AuditRepository(dataSource).query({ type: 'auth.*', limit: 4, before: 's9' });
    expect(chainedOnly.events.map((event) => event.seq)).toEqual([8, 7, 6, 5]);
    expect(chainedOnly.nextBefore).toBe('s5');
    expect(await everything()).toHaveLength(21);
  });
});

describe('events committed but never sequenced', () => {
  async function verify() {
    const store = new AuditRepository(dataSource);
    return verifyChain(T, store.stream(), [], jwksCheckpointVerifier({ keys: [] }, 'https://behalf.test'), undefined, {
      heads: [],
      verify: async () => {
        throw new Error('no heads here');
      },
      overdue: await store.overdue(MAX_PENDING_MS),
    });
  }

  it('fail verification once one has waited longer than the bound, and pass again once sequenced', async () => {
    for (let n = 0; n < 3; n += 1) await append(n);
    await sequenceAll();
    const stuck = await append(3);
    await append(4);
    expect((await verify()).ok).toBe(true); // pending, but within the bound
    await dataSource.transaction(async (manager) => {
      await manager.query(`ALTER TABLE ${T} DISABLE TRIGGER USER`);
      await manager.query(`UPDATE ${T} SET queued_at = now() - interval '90 seconds' WHERE qid = $1`, [stuck]);
      await manager.query(`ALTER TABLE ${T} ENABLE TRIGGER USER`);
    });
    const stalled = await verify();
    expect(stalled.ok).toBe(false);
    expect(stalled.log!.overdue).toMatchObject({ count: 1, oldestQid: stuck, boundMs: MAX_PENDING_MS });
    expect(stalled.log!.overdue!.waitedMs).toBeGreaterThanOrEqual(90_000);
    expect(describeVerification(stalled)).toMatch(
      new RegExp(
        `^audit log STALLED: 1 committed events were never sequenced: the oldest \\(queue id ${stuck}, queued at .*\\) has waited 9\\d s, more than the 60 s bound`,
      ),
    );
    await sequenceAll();
    expect((await verify()).ok).toBe(true);
  });
});

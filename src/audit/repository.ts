/** Reading the audit trail: filtered, paginated queries and full-chain streams. */
import type { DataSource } from 'typeorm';
import { AUDIT_COLUMNS, toCheckpoint, toEvent, type AuditRow, type CheckpointRow, type StoredAuditEvent } from './rows.js';
import { assertAuditTableName } from './schema.js';
import type { AuditCheckpoint, OverduePending } from './types.js';

export interface AuditQuery {
  actor?: string;
  subject?: string;
  /** Any of these actors (one person may have several accounts). */
  actors?: string[];
  subjects?: string[];
  /** Events whose actor, subject or on-behalf agent (`details.agent`) is one of these. */
  people?: string[];
  sessionId?: string;
  clientId?: string;
  /** An exact type, or a prefix ending in `*` (`auth.*`). */
  type?: string;
  from?: Date;
  to?: Date;
  /** Keyset pagination: a cursor from `nextBefore` (see `AuditCursor`); the page holds the events after it, newest first. */
  before?: string;
  limit?: number;
}

export interface AuditPage {
  events: StoredAuditEvent[];
  /** Pass as `before` for the next (older) page; absent on the last page. */
  nextBefore?: string;
}

export const MAX_PAGE = 500;

/**
 * Where a page ends, in an order that sequencing never changes: log events
 * (pending or sequenced) by queue id, newest first, then the events chained
 * before the Merkle log (no queue id, all older than every log event) by seq.
 * Written `q<qid>` or `s<seq>`; callers treat it as opaque.
 */
export type AuditCursor = { qid: number } | { seq: number };

const CURSOR = /^([qs])([1-9]\d{0,15})$/;

export class AuditCursorError extends Error {
  override name = 'AuditCursorError';
}

/** Reads a cursor given by a client; a malformed one is an `AuditCursorError`. */
export function parseAuditCursor(text: string): AuditCursor {
  const match = CURSOR.exec(text);
  const value = match ? Number(match[2]) : NaN;
  if (!match || !Number.isSafeInteger(value))
    throw new AuditCursorError('before must be a paging cursor as returned in next_before (such as q1234 or s56)');
  return match[1] === 'q' ? { qid: value } : { seq: value };
}

export function formatAuditCursor(cursor: AuditCursor): string {
  return 'qid' in cursor ? `q${cursor.qid}` : `s${cursor.seq}`;
}

export class AuditRepository {
  private readonly table: string;

  constructor(
    private readonly dataSource: DataSource,
    table = 'audit_event',
  ) {
    this.table = assertAuditTableName(table);
  }

  /**
   * Newest first by queue id, pending and sequenced events alike, then the
   * chained events from before the log by seq. The key of an event never
   * changes when the sequencer gives it its seq, so paging with `nextBefore`
   * returns every event exactly once, whatever is sequenced between pages.
   * Each half walks an index (migration 1795545000000: (column, qid) for log
   * events, (column, seq) WHERE qid IS NULL for chained ones).
   */
  async query(query: AuditQuery = {}): Promise<AuditPage> {
    const limit = Math.min(Math.max(Math.trunc(query.limit ?? 50), 1), MAX_PAGE);
    const cursor = query.before === undefined ? undefined : parseAuditCursor(query.before);
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (clause: string, value: unknown) => {
      params.push(value);
      where.push(clause.replace('?', `$${params.length}`));
    };
    if (query.actor) add('actor = ?', query.actor);
    if (query.subject) add('subject = ?', query.subject);
    if (query.actors) add('actor = ANY(?::text[])', query.actors);
    if (query.subjects) add('subject = ANY(?::text[])', query.subjects);
    if (query.people) {
      // The agent of an on-behalf session that someone else ended is in the event's details.
      add('(actor = ANY(?::text[])', query.people);
      where[where.length - 1] += ` OR subject = ANY($${params.length}::text[]) OR details->>'agent' = ANY($${params.length}::text[]))`;
    }
    if (query.sessionId) add('session_id = ?', query.sessionId);
    if (query.clientId) add('client_id = ?', query.clientId);
    if (query.type) {
      if (query.type.endsWith('*')) add('type LIKE ?', `${query.type.slice(0, -1).replace(/[\\%_]/g, '\\$&')}%`);
      else add('type = ?', query.type);
    }
    if (query.from) add('occurred_at >= ?', query.from);
    if (query.to) add('occurred_at < ?', query.to);
    const select = async (extra: string[], order: string, count: number, values: unknown[]) =>
      (await this.dataSource.query(
        `SELECT ${AUDIT_COLUMNS} FROM ${this.table} WHERE ${[...where, ...extra].join(' AND ')} ORDER BY ${order} LIMIT $${values.length + 1}`,
        [...values, count],
      )) as AuditRow[];
    const rows: AuditRow[] = [];
    if (!cursor || 'qid' in cursor) {
      const log = cursor ? [`qid < $${params.length + 1}`] : ['qid IS NOT NULL'];
      rows.push(...(await select(log, 'qid DESC', limit + 1, cursor ? [...params, cursor.qid] : params)));
    }
    if (rows.length <= limit) {
      const chained = cursor && 'seq' in cursor ? ['qid IS NULL', `seq < $${params.length + 1}`] : ['qid IS NULL'];
      const values = cursor && 'seq' in cursor ? [...params, cursor.seq] : params;
      rows.push(...(await select(chained, 'seq DESC', limit + 1 - rows.length, values)));
    }
    const events = rows.slice(0, limit).map(toEvent);
    if (rows.length <= limit) return { events };
    const last = events.at(-1)!;
    return { events, nextBefore: formatAuditCursor(last.qid !== null ? { qid: last.qid } : { seq: last.seq! }) };
  }

  /** The event at `seq`, if it is in the log. */
  async at(seq: number): Promise<StoredAuditEvent | undefined> {
    const [row] = (await this.dataSource.query(`SELECT ${AUDIT_COLUMNS} FROM ${this.table} WHERE seq = $1`, [seq])) as AuditRow[];
    return row && toEvent(row);
  }

  /** Every sequenced event in log order from `after` on, fetched in batches (constant memory). */
  async *stream(batchSize = 5000, after = 0): AsyncGenerator<StoredAuditEvent> {
    for (;;) {
      const rows = (await this.dataSource.query(`SELECT ${AUDIT_COLUMNS} FROM ${this.table} WHERE seq > $1 ORDER BY seq LIMIT $2`, [
        after,
        batchSize,
      ])) as AuditRow[];
      for (const row of rows) yield toEvent(row);
      if (rows.length < batchSize) return;
      after = Number(rows.at(-1)!.seq);
    }
  }

  async checkpoints(): Promise<AuditCheckpoint[]> {
    const rows = (await this.dataSource.query(`SELECT * FROM ${this.table}_checkpoint ORDER BY seq, id`)) as CheckpointRow[];
    return rows.map(toCheckpoint);
  }

  async head(): Promise<{ seq: number; hash: string } | undefined> {
    const [row] = (await this.dataSource.query(
      `SELECT seq, coalesce(hash, leaf_hash) AS hash FROM ${this.table} WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1`,
    )) as {
      seq: string;
      hash: string;
    }[];
    return row ? { seq: Number(row.seq), hash: row.hash } : undefined;
  }

  /**
   * Where appending stands now: the newest queue id. Events appended later have
   * larger ones whether or not they were sequenced yet (tests and tools mark with it).
   */
  async mark(): Promise<number> {
    const [row] = (await this.dataSource.query(`SELECT coalesce(max(qid), 0) AS qid FROM ${this.table}`)) as { qid: string }[];
    return Number(row?.qid ?? 0);
  }

  /** Committed events still pending after `boundMs` (the database's clock); undefined when there is none. */
  async overdue(boundMs: number): Promise<OverduePending | undefined> {
    const [row] = (await this.dataSource.query(
      `SELECT count(*)::int AS count, min(qid) AS qid, min(queued_at) AS oldest,
              (extract(epoch FROM clock_timestamp() - min(queued_at)) * 1000)::float8 AS waited
         FROM ${this.table} WHERE seq IS NULL AND queued_at < clock_timestamp() - $1 * interval '1 millisecond'`,
      [boundMs],
    )) as { count: number; qid: string | null; oldest: Date | null; waited: number | null }[];
    if (!row?.count) return undefined;
    return { count: row.count, oldestQid: Number(row.qid), oldestQueuedAt: new Date(row.oldest!), waitedMs: row.waited!, boundMs };
  }

  /** Events committed but not yet in the log, and how long the oldest has waited. */
  async pending(): Promise<{ count: number; oldestQueuedAt?: Date }> {
    const [row] = (await this.dataSource.query(
      `SELECT count(*)::int AS count, min(queued_at) AS oldest FROM ${this.table} WHERE seq IS NULL`,
    )) as {
      count: number;
      oldest: Date | null;
    }[];
    return row!.oldest ? { count: row!.count, oldestQueuedAt: new Date(row!.oldest) } : { count: row!.count };
  }
}

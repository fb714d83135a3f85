/** Reading the audit trail: filtered, paginated queries and full-chain streams. */
import type { DataSource } from 'typeorm';
import { AUDIT_COLUMNS, toCheckpoint, toEvent, type AuditRow, type CheckpointRow, type StoredAuditEvent } from './rows.js';
import { assertAuditTableName } from './schema.js';
import type { AuditCheckpoint } from './types.js';

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
  /** Keyset pagination: events older than this seq (newest first). */
  before?: number;
  limit?: number;
}

export interface AuditPage {
  events: StoredAuditEvent[];
  /** Pass as `before` for the next (older) page; absent on the last page. */
  nextBefore?: number;
}

export const MAX_PAGE = 500;

export class AuditRepository {
  private readonly table: string;

  constructor(
    private readonly dataSource: DataSource,
    table = 'audit_event',
  ) {
    this.table = assertAuditTableName(table);
  }

  async query(query: AuditQuery = {}): Promise<AuditPage> {
    const limit = Math.min(Math.max(Math.trunc(query.limit ?? 50), 1), MAX_PAGE);
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
    if (query.before !== undefined) add('seq < ?', query.before);
    params.push(limit + 1);
    const rows = (await this.dataSource.query(
      `SELECT ${AUDIT_COLUMNS} FROM ${this.table} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT $${params.length}`,
      params,
    )) as AuditRow[];
    const events = rows.slice(0, limit).map(toEvent);
    return rows.length > limit ? { events, nextBefore: events.at(-1)!.seq } : { events };
  }

  /** Every event in chain order, fetched in batches (constant memory). */
  async *stream(batchSize = 5000): AsyncGenerator<StoredAuditEvent> {
    let after = 0;
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
    const [row] = (await this.dataSource.query(`SELECT seq, hash FROM ${this.table} ORDER BY seq DESC LIMIT 1`)) as {
      seq: string;
      hash: string;
    }[];
    return row ? { seq: Number(row.seq), hash: row.hash } : undefined;
  }
}

/**
 * Appends audit events inside the caller's transaction. Fail closed: if the
 * append fails, the caller's transaction fails with it, and the record commits
 * exactly when what it records commits.
 *
 * The append takes no lock (it enqueues; the sequencer orders the log later,
 * see sequencer.ts), so where it comes in the transaction no longer matters.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { JsonValue } from './canonical-json.js';
import { contentHash } from './hash.js';
import { assertAuditTableName } from './schema.js';
import { isValidEventType, type AuditEventInput } from './types.js';

export class AuditWriteError extends Error {
  override name = 'AuditWriteError';
}

const LIMITS = { actor: 300, subject: 300, clientId: 200, sessionId: 300, ip: 64, userAgent: 1000 } as const;
const MAX_DETAILS_BYTES = 16_384;

/** PostgreSQL text cannot hold NUL; other control characters are kept out of logs' way too. */
function clean(value: string | null | undefined, max: number): string | null {
  if (value === null || value === undefined || value === '') return null;
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '').slice(0, max);
}

function cleanJson(value: unknown, depth = 0): JsonValue {
  if (depth > 8) return '[too deep]';
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return clean(value, 2000) ?? '';
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'boolean') return value;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.slice(0, 100).map((item) => cleanJson(item, depth + 1));
  if (typeof value === 'object') {
    const out: Record<string, JsonValue> = {};
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      if (item !== undefined) out[clean(key, 100) ?? '_'] = cleanJson(item, depth + 1);
    }
    return out;
  }
  return String(value);
}

/** The first parameter number a companion statement may use (the append takes $1 to $11). */
export const COMPANION_FIRST_PARAM = 12;

/** A statement written with an audit record, atomically and in the same round trip. */
export interface Companion {
  sql: string;
  params: unknown[];
}

export interface AppendedEvent {
  id: string;
  /** Its queue id: the sequencer gives it a seq within about a second of the commit. */
  qid: number;
}

export class AuditWriter {
  private readonly table: string;

  constructor(table = 'audit_event') {
    this.table = assertAuditTableName(table);
  }

  /**
   * Appends one event within `manager`'s transaction (or alone, with a DataSource).
   * `companion`: a data-modifying statement that commits with the record in the same
   * statement (one round trip); its parameters are numbered from `$12` (COMPANION_FIRST_PARAM).
   */
  async append(manager: EntityManager | DataSource, input: AuditEventInput, companion?: Companion): Promise<AppendedEvent> {
    if (!isValidEventType(input.type)) throw new AuditWriteError(`invalid audit event type ${JSON.stringify(input.type)}`);
    const details = cleanJson(input.details ?? {}) as Record<string, JsonValue>;
    if (Buffer.byteLength(JSON.stringify(details)) > MAX_DETAILS_BYTES) throw new AuditWriteError('audit event details are too large');
    const occurredAt = new Date(Math.floor((input.occurredAt ?? new Date()).getTime()));
    const event = {
      id: randomUUID(),
      occurredAt,
      type: input.type,
      actor: clean(input.actor, LIMITS.actor),
      subject: clean(input.subject, LIMITS.subject),
      clientId: clean(input.clientId, LIMITS.clientId),
      sessionId: clean(input.sessionId, LIMITS.sessionId),
      ip: clean(input.ip, LIMITS.ip),
      userAgent: clean(input.userAgent, LIMITS.userAgent),
      details,
    };
    const append = `SELECT ${this.table}_enqueue($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) AS qid`;
    const rows = (await manager.query(companion ? `WITH companion AS (${companion.sql}) ${append}` : append, [
      event.id,
      event.occurredAt,
      event.type,
      event.actor,
      event.subject,
      event.clientId,
      event.sessionId,
      event.ip,
      event.userAgent,
      JSON.stringify(event.details),
      contentHash(event),
      ...(companion?.params ?? []),
    ])) as { qid: string }[];
    return { id: event.id, qid: Number(rows[0]!.qid) };
  }

  /**
   * Runs `work` in a transaction and appends the event it returns: the record
   * and the change commit together or not at all.
   */
  async withEvent<T>(dataSource: DataSource, work: (manager: EntityManager) => Promise<{ result: T; event: AuditEventInput }>): Promise<T> {
    return dataSource.transaction(async (manager) => {
      const { result, event } = await work(manager);
      await this.append(manager, event);
      return result;
    });
  }
}

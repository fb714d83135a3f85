/** Mapping between the audit table's rows and AuditEvent. */
import type { AuditCheckpoint, AuditEvent } from './types.js';

export interface AuditRow {
  seq: string | number;
  id: string;
  occurred_at: Date | string;
  type: string;
  actor: string | null;
  subject: string | null;
  client_id: string | null;
  session_id: string | null;
  ip: string | null;
  user_agent: string | null;
  details: Record<string, unknown> | string;
  content_hash: string;
  prev_hash: string | null;
  hash: string | null;
  qid: string | number | null;
  leaf_hash: string | null;
}

export type StoredAuditEvent = AuditEvent & { contentHash: string };

export const AUDIT_COLUMNS =
  'seq, id, occurred_at, type, actor, subject, client_id, session_id, ip, user_agent, details, content_hash, prev_hash, hash, qid, leaf_hash';

export function toEvent(row: AuditRow): StoredAuditEvent {
  return {
    seq: row.seq === null || row.seq === undefined ? null : Number(row.seq),
    id: row.id,
    occurredAt: row.occurred_at instanceof Date ? row.occurred_at : new Date(row.occurred_at),
    type: row.type,
    actor: row.actor,
    subject: row.subject,
    clientId: row.client_id,
    sessionId: row.session_id,
    ip: row.ip,
    userAgent: row.user_agent,
    details: (typeof row.details === 'string' ? JSON.parse(row.details) : row.details) as AuditEvent['details'],
    contentHash: row.content_hash,
    prevHash: row.prev_hash,
    hash: row.hash,
    qid: row.qid === null || row.qid === undefined ? null : Number(row.qid),
    leafHash: row.leaf_hash ?? null,
  };
}

/** The hashed content of an event, in its stored (snake_case) names. */
export function contentJson(
  event: Omit<StoredAuditEvent, 'seq' | 'contentHash' | 'prevHash' | 'hash' | 'qid' | 'leafHash'>,
): Record<string, unknown> {
  return {
    id: event.id,
    occurred_at: event.occurredAt.toISOString(),
    type: event.type,
    actor: event.actor,
    subject: event.subject,
    client_id: event.clientId,
    session_id: event.sessionId,
    ip: event.ip,
    user_agent: event.userAgent,
    details: event.details,
  };
}

/** The JSON-lines form of an event (export files, the admin API). */
export function toJson(event: StoredAuditEvent): Record<string, unknown> {
  const log = event.qid === null ? { prev_hash: event.prevHash, hash: event.hash } : { qid: event.qid, leaf_hash: event.leafHash };
  return { seq: event.seq, ...contentJson(event), content_hash: event.contentHash, ...log };
}

export function fromJson(value: Record<string, unknown>): StoredAuditEvent {
  return toEvent(value as unknown as AuditRow);
}

export interface CheckpointRow {
  id: string | number;
  seq: string | number;
  hash: string;
  created_at: Date | string;
  jws: string;
}

export function toCheckpoint(row: CheckpointRow): AuditCheckpoint {
  return {
    id: Number(row.id),
    seq: Number(row.seq),
    hash: row.hash,
    createdAt: row.created_at instanceof Date ? row.created_at : new Date(row.created_at),
    jws: row.jws,
  };
}

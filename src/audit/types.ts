/** Audit event shapes and the stable, dotted event names (DESIGN.md). */
import type { JsonValue } from './canonical-json.js';

export const AUDIT_EVENT_TYPES = [
  'auth.login.succeeded',
  'auth.login.failed',
  'auth.lockout',
  'auth.logout',
  'consent.granted',
  'token.issued',
  'token.revoked',
  'on_behalf.started',
  'on_behalf.denied',
  'on_behalf.ended',
  'on_behalf.scope_refused',
  'on_behalf.reauth_revoked',
  'on_behalf.approval.requested',
  'on_behalf.approval.approved',
  'on_behalf.approval.denied',
  'on_behalf.approval.expired',
  'on_behalf.reported',
  'auth.password_reset.requested',
  'auth.password_reset.completed',
  'auth.registered',
  'auth.email_verified',
  'account.access_policy.changed',
  'delegation.issued',
  'delegation.denied',
  // RFC 7591/7592: a client registering, updating or deleting itself (the client is the actor).
  'client.registered',
  'client.updated',
  'client.deleted',
] as const;

/** Known Behalf names, plus `admin.*` and resource servers' `resource.<entity>.<change>`. */
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number] | `admin.${string}` | `resource.${string}`;

const TYPE_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){1,4}$/;

export function isValidEventType(type: string): boolean {
  return TYPE_PATTERN.test(type) && type.length <= 100;
}

/** What a caller records. Never secrets or tokens: ids and references only. */
export interface AuditEventInput {
  type: AuditEventType;
  /** Who did it: an account id, a client id (`client:<id>`), `cli:<user>` or `system`. */
  actor?: string | null;
  /** Whom or what it was done to (an account id for most events). */
  subject?: string | null;
  clientId?: string | null;
  /** On-behalf session, OIDC session or other correlation id. */
  sessionId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  details?: Record<string, JsonValue | undefined>;
  /** Defaults to now; millisecond precision (what round-trips exactly). */
  occurredAt?: Date;
}

/**
 * A stored event. `seq` is its place in the log, null while it waits for the
 * sequencer (at most about a second). Events chained before the Merkle log
 * carry prevHash/hash; log events carry qid (their queue id) and, once
 * sequenced, leafHash.
 */
export interface AuditEvent {
  seq: number | null;
  id: string;
  occurredAt: Date;
  type: string;
  actor: string | null;
  subject: string | null;
  clientId: string | null;
  sessionId: string | null;
  ip: string | null;
  userAgent: string | null;
  details: Record<string, JsonValue>;
  prevHash: string | null;
  hash: string | null;
  qid: number | null;
  leafHash: string | null;
}

export interface AuditCheckpoint {
  id: number;
  seq: number;
  hash: string;
  createdAt: Date;
  /** Compact JWS over `{ table, seq, hash, iat }`, signed with a Behalf key. */
  jws: string;
}

export const GENESIS_HASH = '0'.repeat(64);

/** Committed events still pending after the bound (by the database's clock). */
export interface OverduePending {
  count: number;
  oldestQid: number;
  oldestQueuedAt: Date;
  /** How long the oldest has waited. */
  waitedMs: number;
  boundMs: number;
}

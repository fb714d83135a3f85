/**
 * Before the Merkle log, the chain: content hash = SHA-256(canonical JSON of the event's content);
 * link hash = SHA-256(prev_hash ":" seq ":" content hash). The database
 * computes the link (it knows seq and the previous hash under the lock); the
 * verifier recomputes both from the stored columns.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import { leafHash } from './merkle.js';
import { contentJson } from './rows.js';
import type { AuditEvent } from './types.js';

export type EventContent = Pick<
  AuditEvent,
  'id' | 'occurredAt' | 'type' | 'actor' | 'subject' | 'clientId' | 'sessionId' | 'ip' | 'userAgent' | 'details'
>;

export function contentHash(event: EventContent): string {
  return createHash('sha256')
    .update(canonicalJson(contentJson(event)))
    .digest('hex');
}

export function linkHash(prevHash: string, seq: number, content: string): string {
  return createHash('sha256').update(`${prevHash}:${seq}:${content}`).digest('hex');
}

/**
 * The Merkle leaf of an event (RFC 9162 §2.1.1 hashes it as SHA-256(0x00 || leaf)):
 * for a log event, the canonical JSON of its content and queue id (the qid is in
 * the leaf so a queue id that never reached the log shows as a gap); for an event
 * chained before the log, its place and chain hash, which commit to everything before it.
 */
export function eventLeaf(event: EventContent & Pick<AuditEvent, 'seq' | 'qid' | 'hash'>): string {
  if (event.qid === null) return canonicalJson({ chain_hash: event.hash, seq: event.seq });
  return canonicalJson({ ...contentJson(event), qid: event.qid });
}

export function eventLeafHash(event: EventContent & Pick<AuditEvent, 'seq' | 'qid' | 'hash'>): string {
  return leafHash(eventLeaf(event));
}

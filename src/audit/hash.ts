/**
 * The chain: content hash = SHA-256(canonical JSON of the event's content);
 * link hash = SHA-256(prev_hash ":" seq ":" content hash). The database
 * computes the link (it knows seq and the previous hash under the lock); the
 * verifier recomputes both from the stored columns.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
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

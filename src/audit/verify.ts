/**
 * Walks a chain (from the database or an export file) and its checkpoints.
 * Catches: an altered row (content or link hash), a deleted row (a gap in
 * seq), a truncated tail (a checkpoint beyond the last event) and a
 * recomputed chain (a signed checkpoint that no longer matches).
 */
import { contentHash, linkHash } from './hash.js';
import type { StoredAuditEvent } from './rows.js';
import { GENESIS_HASH, type AuditCheckpoint } from './types.js';

/** Verifies a checkpoint's signature; returns the signed (table, seq, hash) or throws. */
export type CheckpointVerifier = (jws: string) => Promise<{ table: string; seq: number; hash: string }>;

export interface VerifyProblem {
  /** The first sequence number that cannot be trusted. */
  seq: number;
  reason: string;
}

export interface VerifyResult {
  ok: boolean;
  events: number;
  lastSeq: number;
  lastHash: string;
  /** The newest checkpoint that matched the chain. */
  lastCheckpoint?: { seq: number; createdAt: Date };
  checkpoints: number;
  problem?: VerifyProblem;
}

interface SignedPoint {
  seq: number;
  hash: string;
  createdAt: Date;
}

async function signedPoints(table: string, checkpoints: AuditCheckpoint[], verifyCheckpoint: CheckpointVerifier): Promise<SignedPoint[] | VerifyProblem> {
  const points: SignedPoint[] = [];
  for (const checkpoint of checkpoints) {
    let signed: { table: string; seq: number; hash: string };
    try {
      signed = await verifyCheckpoint(checkpoint.jws);
    } catch (error) {
      return { seq: checkpoint.seq, reason: `checkpoint ${checkpoint.id} at seq ${checkpoint.seq} has an invalid signature (${(error as Error).message})` };
    }
    if (signed.table !== table || signed.seq !== checkpoint.seq || signed.hash !== checkpoint.hash) {
      return { seq: checkpoint.seq, reason: `checkpoint ${checkpoint.id} does not match what was signed (seq ${signed.seq}, table ${signed.table})` };
    }
    points.push({ seq: signed.seq, hash: signed.hash, createdAt: checkpoint.createdAt });
  }
  return points.sort((a, b) => a.seq - b.seq);
}

export async function verifyChain(
  table: string,
  events: AsyncIterable<StoredAuditEvent>,
  checkpoints: AuditCheckpoint[],
  verifyCheckpoint: CheckpointVerifier,
): Promise<VerifyResult> {
  const result: VerifyResult = { ok: true, events: 0, lastSeq: 0, lastHash: GENESIS_HASH, checkpoints: checkpoints.length };
  const fail = (problem: VerifyProblem): VerifyResult => ({ ...result, ok: false, problem });

  const points = await signedPoints(table, checkpoints, verifyCheckpoint);
  if (!Array.isArray(points)) return fail(points);
  let nextPoint = 0;
  let lastGoodPointSeq = 0;

  for await (const event of events) {
    const expected = result.lastSeq + 1;
    if (event.seq !== expected) {
      return fail({ seq: expected, reason: event.seq > expected ? `event ${expected} is missing (next present is ${event.seq})` : `event ${event.seq} is out of order` });
    }
    if (event.prevHash !== result.lastHash) return fail({ seq: event.seq, reason: `event ${event.seq} does not link to event ${expected - 1} (prev_hash differs)` });
    const content = contentHash(event);
    if (content !== event.contentHash) return fail({ seq: event.seq, reason: `event ${event.seq} was altered (its content does not match its hash)` });
    if (linkHash(event.prevHash, event.seq, content) !== event.hash) return fail({ seq: event.seq, reason: `event ${event.seq} has a wrong chain hash` });
    result.events += 1;
    result.lastSeq = event.seq;
    result.lastHash = event.hash;

    while (nextPoint < points.length && points[nextPoint]!.seq === event.seq) {
      const point = points[nextPoint]!;
      if (point.hash !== event.hash) {
        return fail({
          seq: lastGoodPointSeq + 1,
          reason: `the chain was rewritten: event ${event.seq} does not match the checkpoint signed at ${point.createdAt.toISOString()}; events ${lastGoodPointSeq + 1}–${event.seq} cannot be trusted`,
        });
      }
      lastGoodPointSeq = point.seq;
      result.lastCheckpoint = { seq: point.seq, createdAt: point.createdAt };
      nextPoint += 1;
    }
    while (nextPoint < points.length && points[nextPoint]!.seq < event.seq) nextPoint += 1;
  }

  const beyond = points.find((point) => point.seq > result.lastSeq);
  if (beyond) {
    return fail({ seq: result.lastSeq + 1, reason: `events ${result.lastSeq + 1}–${beyond.seq} are missing: a checkpoint signed at ${beyond.createdAt.toISOString()} covers seq ${beyond.seq} (truncated tail)` });
  }
  return result;
}

/** The one-line verdict the CLI prints. */
export function describeVerification(result: VerifyResult): string {
  if (!result.ok) return `audit chain BROKEN at seq ${result.problem!.seq}: ${result.problem!.reason}`;
  const checkpoint = result.lastCheckpoint
    ? `last checkpoint at seq ${result.lastCheckpoint.seq} (${result.lastCheckpoint.createdAt.toISOString()})`
    : 'no checkpoint yet';
  return `audit chain intact: ${result.events} events, ${checkpoint}`;
}

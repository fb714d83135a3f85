/**
 * Walks a chain (from the database or an export file) and its checkpoints.
 * Catches: an altered row (content or link hash), a deleted row (a gap in
 * seq), a truncated tail (a checkpoint beyond the last event) and a
 * recomputed chain (a signed checkpoint that no longer matches).
 *
 * Checkpoints stored in the database only catch what was done without
 * rewriting them too; someone with write access to the database can
 * recompute the chain and drop or replace its checkpoints. The external
 * checkpoints (kept where the database's roles cannot write) are what catch
 * that, so the verdict says plainly when there were none to compare with.
 */
import type { ExternalCheckpoint } from './external-checkpoints.js';
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
  /** Checkpoints from the database (or the export). */
  checkpoints: number;
  /** Checkpoints from outside the database; absent when none was looked for (no source configured or given). */
  external?: { source: string; checkpoints: number; lastSeq?: number };
  problem?: VerifyProblem;
}

/** Checkpoints kept outside the database, and where they came from (a path, for messages). */
export interface ExternalCheckpoints {
  source: string;
  checkpoints: ExternalCheckpoint[];
}

interface SignedPoint {
  seq: number;
  hash: string;
  createdAt: Date;
  /** `checkpoint 12` or `external checkpoint`: how messages name it. */
  label: string;
  external: boolean;
}

type Candidate = Omit<SignedPoint, 'seq' | 'hash'> & { seq: number; hash: string; jws: string };

/** Both lists, once each: a checkpoint found in the database and outside it counts as external. */
function candidates(checkpoints: AuditCheckpoint[], external: ExternalCheckpoint[]): Candidate[] {
  const byJws = new Map<string, Candidate>();
  for (const checkpoint of external) byJws.set(checkpoint.jws, { ...checkpoint, label: 'external checkpoint', external: true });
  for (const checkpoint of checkpoints) {
    if (!byJws.has(checkpoint.jws)) byJws.set(checkpoint.jws, { ...checkpoint, label: `checkpoint ${checkpoint.id}`, external: false });
  }
  return [...byJws.values()];
}

async function signedPoints(
  table: string,
  list: Candidate[],
  verifyCheckpoint: CheckpointVerifier,
): Promise<SignedPoint[] | VerifyProblem> {
  const points: SignedPoint[] = [];
  for (const checkpoint of list) {
    let signed: { table: string; seq: number; hash: string };
    try {
      signed = await verifyCheckpoint(checkpoint.jws);
    } catch (error) {
      return {
        seq: checkpoint.seq,
        reason: `${checkpoint.label} at seq ${checkpoint.seq} has an invalid signature (${(error as Error).message})`,
      };
    }
    if (signed.table !== table || signed.seq !== checkpoint.seq || signed.hash !== checkpoint.hash) {
      return {
        seq: checkpoint.seq,
        reason: `${checkpoint.label} at seq ${checkpoint.seq} does not match what was signed (seq ${signed.seq}, table ${signed.table})`,
      };
    }
    points.push({
      seq: signed.seq,
      hash: signed.hash,
      createdAt: checkpoint.createdAt,
      label: checkpoint.label,
      external: checkpoint.external,
    });
  }
  return points.sort((a, b) => a.seq - b.seq);
}

export async function verifyChain(
  table: string,
  events: AsyncIterable<StoredAuditEvent>,
  checkpoints: AuditCheckpoint[],
  verifyCheckpoint: CheckpointVerifier,
  external?: ExternalCheckpoints,
): Promise<VerifyResult> {
  const result: VerifyResult = { ok: true, events: 0, lastSeq: 0, lastHash: GENESIS_HASH, checkpoints: checkpoints.length };
  if (external) result.external = { source: external.source, checkpoints: external.checkpoints.length };
  const fail = (problem: VerifyProblem): VerifyResult => ({ ...result, ok: false, problem });

  const points = await signedPoints(table, candidates(checkpoints, external?.checkpoints ?? []), verifyCheckpoint);
  if (!Array.isArray(points)) return fail(points);
  let nextPoint = 0;
  let lastGoodPointSeq = 0;

  for await (const event of events) {
    const expected = result.lastSeq + 1;
    if (event.seq !== expected) {
      return fail({
        seq: expected,
        reason: event.seq > expected ? `event ${expected} is missing (next present is ${event.seq})` : `event ${event.seq} is out of order`,
      });
    }
    if (event.prevHash !== result.lastHash)
      return fail({ seq: event.seq, reason: `event ${event.seq} does not link to event ${expected - 1} (prev_hash differs)` });
    const content = contentHash(event);
    if (content !== event.contentHash)
      return fail({ seq: event.seq, reason: `event ${event.seq} was altered (its content does not match its hash)` });
    if (linkHash(event.prevHash, event.seq, content) !== event.hash)
      return fail({ seq: event.seq, reason: `event ${event.seq} has a wrong chain hash` });
    result.events += 1;
    result.lastSeq = event.seq;
    result.lastHash = event.hash;

    while (nextPoint < points.length && points[nextPoint]!.seq === event.seq) {
      const point = points[nextPoint]!;
      if (point.hash !== event.hash) {
        return fail({
          seq: lastGoodPointSeq + 1,
          reason: `the chain was rewritten: event ${event.seq} does not match the ${point.label} signed at ${point.createdAt.toISOString()}; events ${lastGoodPointSeq + 1}–${event.seq} cannot be trusted`,
        });
      }
      lastGoodPointSeq = point.seq;
      result.lastCheckpoint = { seq: point.seq, createdAt: point.createdAt };
      if (point.external) result.external!.lastSeq = point.seq;
      nextPoint += 1;
    }
    while (nextPoint < points.length && points[nextPoint]!.seq < event.seq) nextPoint += 1;
  }

  const beyond = points.find((point) => point.seq > result.lastSeq);
  if (beyond) {
    return fail({
      seq: result.lastSeq + 1,
      reason: `events ${result.lastSeq + 1}–${beyond.seq} are missing: ${beyond.external ? 'an external' : 'a'} checkpoint signed at ${beyond.createdAt.toISOString()} covers seq ${beyond.seq} (truncated tail)`,
    });
  }
  return result;
}

/**
 * Why an intact verdict does not yet prove the chain: what `audit verify
 * --strict` refuses. Empty for a broken chain (that is a failure already).
 */
export function verificationGaps(result: VerifyResult): string[] {
  if (!result.ok) return [];
  const gaps: string[] = [];
  if (result.events > 0 && result.checkpoints === 0 && !result.external?.checkpoints) {
    gaps.push(`no checkpoint at all for ${result.events} events: cannot rule out a rewritten chain (seal one with \`audit checkpoint\`)`);
  }
  if (!result.external) {
    gaps.push(
      'no external checkpoints: none configured or given, so a chain rewritten by someone with write access to the database (checkpoints included) would still verify',
    );
  } else if (result.external.checkpoints === 0) {
    gaps.push(
      `no external checkpoints: none in ${result.external.source}, so a chain rewritten by someone with write access to the database (checkpoints included) would still verify`,
    );
  }
  return gaps;
}

/** The one-line verdict; `verificationGaps` says what it does not prove. */
export function describeVerification(result: VerifyResult): string {
  if (!result.ok) return `audit chain BROKEN at seq ${result.problem!.seq}: ${result.problem!.reason}`;
  const checkpoint = result.lastCheckpoint
    ? `last checkpoint at seq ${result.lastCheckpoint.seq} (${result.lastCheckpoint.createdAt.toISOString()})`
    : 'no checkpoint yet';
  const external = result.external?.checkpoints
    ? `; ${result.external.checkpoints} external checkpoints (${result.external.source}), newest at seq ${result.external.lastSeq ?? 'none'}`
    : '';
  return `audit chain intact: ${result.events} events, ${checkpoint}${external}`;
}

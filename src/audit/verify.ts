/**
 * Walks the log (from the database or an export file) in seq order, in
 * bounded memory: events chained before the Merkle log by the chain rules and
 * their checkpoints; every event as a Merkle leaf, folded into an O(log n)
 * frontier whose root must match each signed tree head at its size (a head
 * beyond the end means a truncated tail). Queue ids that never reached the
 * log are reported (a record deleted before it was sequenced, or a
 * transaction that rolled back after appending).
 *
 * Before the log, it walked a chain (from the database or an export file) and its checkpoints.
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
import { contentHash, eventLeafHash, linkHash } from './hash.js';
import { MerkleFrontier } from './merkle.js';
import type { TreeHeadVerifier } from './tree-head.js';
import type { StoredAuditEvent } from './rows.js';
import { GENESIS_HASH, type AuditCheckpoint, type OverduePending } from './types.js';

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
  /** The Merkle log: signed heads checked, the newest matched, queue ids that never reached the log. */
  log?: {
    treeHeads: number;
    externalTreeHeads?: number;
    lastTreeHead?: { treeSize: number; rootHash: string; createdAt: Date };
    root: string;
    missingQids: number[];
    /** More missing than listed (the list is capped to keep memory bounded). */
    missingMore: number;
    /** Committed but not sequenced within the bound (the verdict fails). */
    overdue?: OverduePending;
  };
}

/**
 * How long a committed event may wait for its seq before `audit verify`
 * fails. The sequencer places each within about a second (README "The
 * bound"), a failover within a few more; an event still pending after a
 * minute was committed but is not being sequenced (no sequencer running, or
 * one failing every tick), so it has no place in the log, no proof, and no
 * signed head vouches for it.
 */
export const MAX_PENDING_MS = 60_000;

/** Signed tree heads to hold the log to (from the database, an export, or outside copies). */
export interface TreeHeadSources {
  heads: { treeSize: number; rootHash: string; createdAt: Date; jws: string }[];
  external?: { source: string; heads: { treeSize: number; rootHash: string; createdAt: Date; jws: string }[] };
  verify: TreeHeadVerifier;
  /** Queue ids still waiting for the sequencer: not missing. */
  pendingQids?: number[];
  /** Events pending longer than the bound (`AuditRepository.overdue`): a failure. */
  overdue?: OverduePending;
}

const MAX_LISTED_MISSING = 10_000;

interface SignedHead {
  treeSize: number;
  rootHash: string;
  createdAt: Date;
  label: string;
  external: boolean;
}

async function signedHeads(table: string, sources: TreeHeadSources): Promise<SignedHead[] | VerifyProblem> {
  const byJws = new Map<string, { treeSize: number; rootHash: string; createdAt: Date; jws: string; label: string; external: boolean }>();
  for (const head of sources.external?.heads ?? []) byJws.set(head.jws, { ...head, label: 'external tree head', external: true });
  for (const head of sources.heads) if (!byJws.has(head.jws)) byJws.set(head.jws, { ...head, label: 'tree head', external: false });
  const heads: SignedHead[] = [];
  for (const head of byJws.values()) {
    let signed: Awaited<ReturnType<TreeHeadVerifier>>;
    try {
      signed = await sources.verify(head.jws);
    } catch (error) {
      return {
        seq: head.treeSize,
        reason: `${head.label} of size ${head.treeSize} has an invalid signature (${(error as Error).message})`,
      };
    }
    if (signed.table !== table || signed.treeSize !== head.treeSize || signed.rootHash !== head.rootHash) {
      return {
        seq: head.treeSize,
        reason: `${head.label} of size ${head.treeSize} does not match what was signed (size ${signed.treeSize}, table ${signed.table})`,
      };
    }
    heads.push({
      treeSize: signed.treeSize,
      rootHash: signed.rootHash,
      createdAt: head.createdAt,
      label: head.label,
      external: head.external,
    });
  }
  return heads.sort((a, b) => a.treeSize - b.treeSize);
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
  treeHeads?: TreeHeadSources,
): Promise<VerifyResult> {
  const result: VerifyResult = { ok: true, events: 0, lastSeq: 0, lastHash: GENESIS_HASH, checkpoints: checkpoints.length };
  if (external) result.external = { source: external.source, checkpoints: external.checkpoints.length };
  const frontier = MerkleFrontier.empty();
  const log: NonNullable<VerifyResult['log']> = {
    treeHeads: treeHeads?.heads.length ?? 0,
    root: frontier.root(),
    missingQids: [],
    missingMore: 0,
  };
  if (treeHeads?.external) log.externalTreeHeads = treeHeads.external.heads.length;
  result.log = log;
  const fail = (problem: VerifyProblem): VerifyResult => ({ ...result, ok: false, problem });

  const heads = treeHeads ? await signedHeads(table, treeHeads) : [];
  if (!Array.isArray(heads)) return fail(heads);
  let nextHead = 0;
  let lastGoodHeadSize = 0;
  // Queue ids: the highest seen, and those below it not seen (yet: a late commit may still bring one).
  let maxQid = 0;
  const missing = new Set<number>();
  let inLog = false;

  const points = await signedPoints(table, candidates(checkpoints, external?.checkpoints ?? []), verifyCheckpoint);
  if (!Array.isArray(points)) return fail(points);
  let nextPoint = 0;
  let lastGoodPointSeq = 0;

  for await (const event of events) {
    const seq = event.seq!;
    const expected = result.lastSeq + 1;
    if (seq !== expected) {
      return fail({
        seq: expected,
        reason: seq > expected ? `event ${expected} is missing (next present is ${seq})` : `event ${seq} is out of order`,
      });
    }
    const content = contentHash(event);
    if (content !== event.contentHash) return fail({ seq, reason: `event ${seq} was altered (its content does not match its hash)` });
    if (event.qid === null) {
      if (inLog) return fail({ seq, reason: `event ${seq} is chained but comes after the Merkle log began` });
      if (event.prevHash !== result.lastHash)
        return fail({ seq, reason: `event ${seq} does not link to event ${expected - 1} (prev_hash differs)` });
      if (linkHash(event.prevHash!, seq, content) !== event.hash) return fail({ seq, reason: `event ${seq} has a wrong chain hash` });
      result.lastHash = event.hash!;
      while (nextPoint < points.length && points[nextPoint]!.seq === seq) {
        const point = points[nextPoint]!;
        if (point.hash !== event.hash) {
          return fail({
            seq: lastGoodPointSeq + 1,
            reason: `the chain was rewritten: event ${seq} does not match the ${point.label} signed at ${point.createdAt.toISOString()}; events ${lastGoodPointSeq + 1}–${seq} cannot be trusted`,
          });
        }
        lastGoodPointSeq = point.seq;
        result.lastCheckpoint = { seq: point.seq, createdAt: point.createdAt };
        if (point.external) result.external!.lastSeq = point.seq;
        nextPoint += 1;
      }
      while (nextPoint < points.length && points[nextPoint]!.seq < seq) nextPoint += 1;
    } else {
      inLog = true;
      const qid = event.qid;
      if (qid > maxQid) {
        for (let gap = maxQid + 1; gap < qid; gap += 1) missing.add(gap);
        maxQid = qid;
      } else if (!missing.delete(qid)) {
        return fail({ seq, reason: `event ${seq} repeats queue id ${qid}` });
      }
    }
    const leaf = eventLeafHash(event);
    if (event.qid !== null && event.leafHash !== leaf) return fail({ seq, reason: `event ${seq} has a wrong leaf hash` });
    frontier.push(leaf);
    result.events += 1;
    result.lastSeq = seq;
    if (nextHead < heads.length && heads[nextHead]!.treeSize === seq) {
      const root = frontier.root();
      while (nextHead < heads.length && heads[nextHead]!.treeSize === seq) {
        const head = heads[nextHead]!;
        if (head.rootHash !== root) {
          return fail({
            seq: lastGoodHeadSize + 1,
            reason: `the log was rewritten: events 1–${seq} do not hash to the root of the ${head.label} signed at ${head.createdAt.toISOString()}; events ${lastGoodHeadSize + 1}–${seq} cannot be trusted`,
          });
        }
        lastGoodHeadSize = head.treeSize;
        log.lastTreeHead = { treeSize: head.treeSize, rootHash: head.rootHash, createdAt: head.createdAt };
        nextHead += 1;
      }
    }
  }
  log.root = frontier.root();
  for (const qid of treeHeads?.pendingQids ?? []) missing.delete(qid);
  const sorted = [...missing].sort((a, b) => a - b);
  log.missingQids = sorted.slice(0, MAX_LISTED_MISSING);
  log.missingMore = sorted.length - log.missingQids.length;

  const beyondHead = heads.find((head) => head.treeSize > result.lastSeq);
  if (beyondHead) {
    return fail({
      seq: result.lastSeq + 1,
      reason: `events ${result.lastSeq + 1}–${beyondHead.treeSize} are missing: ${beyondHead.external ? 'an external' : 'a'} tree head signed at ${beyondHead.createdAt.toISOString()} covers ${beyondHead.treeSize} events (truncated tail)`,
    });
  }
  const beyond = points.find((point) => point.seq > result.lastSeq);
  if (beyond) {
    return fail({
      seq: result.lastSeq + 1,
      reason: `events ${result.lastSeq + 1}–${beyond.seq} are missing: ${beyond.external ? 'an external' : 'a'} checkpoint signed at ${beyond.createdAt.toISOString()} covers seq ${beyond.seq} (truncated tail)`,
    });
  }
  const overdue = treeHeads?.overdue;
  if (overdue && overdue.count > 0) {
    log.overdue = overdue;
    return fail({
      seq: result.lastSeq + 1,
      reason: `${overdue.count} committed events were never sequenced: the oldest (queue id ${overdue.oldestQid}, queued at ${overdue.oldestQueuedAt.toISOString()}) has waited ${Math.round(overdue.waitedMs / 1000)} s, more than the ${overdue.boundMs / 1000} s bound; is a sequencer running?`,
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
  const missing = result.log ? result.log.missingQids.length + result.log.missingMore : 0;
  if (missing > 0) {
    const listed = result.log!.missingQids.slice(0, 20).join(', ');
    gaps.push(
      `${missing} queue ids never reached the log (${listed}${missing > 20 ? ', …' : ''}): each is a record deleted before it was sequenced, or a transaction that rolled back after appending`,
    );
  }
  const signed = result.log && (result.log.treeHeads > 0 || (result.log.externalTreeHeads ?? 0) > 0);
  if (result.events > 0 && result.checkpoints === 0 && !result.external?.checkpoints && !signed) {
    gaps.push(`no checkpoint at all for ${result.events} events: cannot rule out a rewritten chain (seal one with \`audit checkpoint\`)`);
  }
  if (result.log?.externalTreeHeads) {
    // Tree heads kept outside the database vouch for the whole log, chained part included.
  } else if (!result.external) {
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
  if (!result.ok && result.log?.overdue) return `audit log STALLED: ${result.problem!.reason}`;
  if (!result.ok) return `audit chain BROKEN at seq ${result.problem!.seq}: ${result.problem!.reason}`;
  const checkpoint = result.lastCheckpoint
    ? `last checkpoint at seq ${result.lastCheckpoint.seq} (${result.lastCheckpoint.createdAt.toISOString()})`
    : 'no checkpoint yet';
  const external = result.external?.checkpoints
    ? `; ${result.external.checkpoints} external checkpoints (${result.external.source}), newest at seq ${result.external.lastSeq ?? 'none'}`
    : '';
  const head = result.log?.lastTreeHead
    ? `; Merkle root ${result.log.root.slice(0, 16)}…, newest signed tree head of size ${result.log.lastTreeHead.treeSize} (${result.log.lastTreeHead.createdAt.toISOString()})${result.log.externalTreeHeads ? `, ${result.log.externalTreeHeads} outside the database` : ''}`
    : '';
  return `audit chain intact: ${result.events} events, ${checkpoint}${external}${head}`;
}

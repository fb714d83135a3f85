/**
 * The Merkle tree of RFC 9162 §2.1 over the audit log, in pure functions.
 *
 * Leaf hash = SHA-256(0x00 || leaf), interior node = SHA-256(0x01 || left || right)
 * (§2.1.1). A tree of size n is MTH(D[n]): split at k, the largest power of two
 * smaller than n. Hashes are lowercase hex strings at every boundary.
 *
 * The log stores only perfect subtrees ("nodes": level L, index i covers
 * leaves [i·2^L, (i+1)·2^L)); every range the RFC's recursions ask for is
 * either such a node or folds from O(log n) of them. Proof builders take a
 * synchronous `NodeLookup`: callers first ask `nodesNeeded` which nodes a
 * proof reads, fetch them in one query, then build the proof.
 */
import { createHash } from 'node:crypto';

export interface NodeKey {
  level: number;
  index: number;
}

export type NodeLookup = (key: NodeKey) => string;

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

/** RFC 9162 §2.1.1: MTH({d(0)}) = HASH(0x00 || d(0)). */
export function leafHash(leaf: string | Uint8Array): string {
  return createHash('sha256').update(LEAF_PREFIX).update(leaf).digest('hex');
}

/** RFC 9162 §2.1.1: HASH(0x01 || MTH(left) || MTH(right)). */
export function nodeHash(left: string, right: string): string {
  return createHash('sha256').update(NODE_PREFIX).update(Buffer.from(left, 'hex')).update(Buffer.from(right, 'hex')).digest('hex');
}

/** MTH({}) = HASH() (§2.1.1). */
export const EMPTY_ROOT = createHash('sha256').digest('hex');

function isPowerOfTwo(n: number): boolean {
  return n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

/** The largest power of two smaller than n (n > 1). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * A compact range over leaves [0, size): the roots of the perfect subtrees
 * that make it up, largest first (one per set bit of size). O(log n) memory,
 * whatever the size: what the sequencer keeps and what verification streams with.
 */
export class MerkleFrontier {
  private constructor(
    private nodes: { level: number; hash: string }[],
    private count: number,
  ) {}

  static empty(): MerkleFrontier {
    return new MerkleFrontier([], 0);
  }

  /** Rebuilt from stored nodes (see `frontierKeys`). */
  static fromNodes(size: number, lookup: NodeLookup): MerkleFrontier {
    return new MerkleFrontier(
      frontierKeys(size).map((key) => ({ level: key.level, hash: lookup(key) })),
      size,
    );
  }

  get size(): number {
    return this.count;
  }

  /**
   * Appends one leaf hash; returns the perfect subtrees it completed (level ≥ 1),
   * which are what the log stores for proofs.
   */
  push(leaf: string): { key: NodeKey; hash: string }[] {
    const completed: { key: NodeKey; hash: string }[] = [];
    let carry = { level: 0, hash: leaf };
    this.count += 1;
    while (this.nodes.length > 0 && this.nodes.at(-1)!.level === carry.level) {
      const left = this.nodes.pop()!;
      carry = { level: carry.level + 1, hash: nodeHash(left.hash, carry.hash) };
      completed.push({ key: { level: carry.level, index: Math.floor(this.count / 2 ** carry.level) - 1 }, hash: carry.hash });
    }
    this.nodes.push(carry);
    return completed;
  }

  /** MTH(D[size]): the subtrees folded right to left (§2.1.1's recursion, unrolled). */
  root(): string {
    if (this.nodes.length === 0) return EMPTY_ROOT;
    let hash = this.nodes.at(-1)!.hash;
    for (let i = this.nodes.length - 2; i >= 0; i -= 1) hash = nodeHash(this.nodes[i]!.hash, hash);
    return hash;
  }
}

/** The perfect subtrees whose roots make up a tree of `size` leaves, largest first. */
export function frontierKeys(size: number): NodeKey[] {
  const keys: NodeKey[] = [];
  let start = 0;
  for (let level = 52; level >= 0; level -= 1) {
    const width = 2 ** level;
    if (size - start >= width) {
      keys.push({ level, index: start / width });
      start += width;
    }
  }
  return keys;
}

/** MTH(D[start:end]) from perfect subtrees (start is aligned as the RFC's recursions make it). */
function rangeHash(start: number, end: number, lookup: NodeLookup): string {
  const width = end - start;
  if (isPowerOfTwo(width) && start % width === 0) return lookup({ level: Math.log2(width), index: start / width });
  const k = splitPoint(width);
  return nodeHash(rangeHash(start, start + k, lookup), rangeHash(start + k, end, lookup));
}

/** RFC 9162 §2.1.3.1: PATH(m, D[n]), the inclusion proof of leaf m in a tree of n leaves. */
export function inclusionPath(index: number, size: number, lookup: NodeLookup): string[] {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) {
    throw new RangeError(`leaf ${index} is not in a tree of size ${size}`);
  }
  const path: string[] = [];
  const walk = (m: number, start: number, end: number): void => {
    const n = end - start;
    if (n === 1) return;
    const k = splitPoint(n);
    if (m < k) {
      walk(m, start, start + k);
      path.push(rangeHash(start + k, end, lookup));
    } else {
      walk(m - k, start + k, end);
      path.push(rangeHash(start, start + k, lookup));
    }
  };
  walk(index, 0, size);
  return path;
}

/** RFC 9162 §2.1.4.1: PROOF(m, D[n]) = SUBPROOF(m, D[n], true). */
export function consistencyPath(first: number, second: number, lookup: NodeLookup): string[] {
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 1 || first > second) {
    throw new RangeError(`no consistency proof from size ${first} to size ${second}`);
  }
  const path: string[] = [];
  const subproof = (m: number, start: number, end: number, complete: boolean): void => {
    const n = end - start;
    if (m === n) {
      if (!complete) path.push(rangeHash(start, end, lookup));
      return;
    }
    const k = splitPoint(n);
    if (m <= k) {
      subproof(m, start, start + k, complete);
      path.push(rangeHash(start + k, end, lookup));
    } else {
      subproof(m - k, start + k, end, false);
      path.push(rangeHash(start, start + k, lookup));
    }
  };
  subproof(first, 0, second, true);
  return path;
}

/** Which stored nodes a proof reads: run it once with a recording lookup. */
export function nodesNeeded(build: (lookup: NodeLookup) => unknown): NodeKey[] {
  const keys = new Map<string, NodeKey>();
  build((key) => {
    keys.set(`${key.level}:${key.index}`, key);
    return EMPTY_ROOT;
  });
  return [...keys.values()];
}

/** RFC 9162 §2.1.3.2: whether `path` proves leaf `hash` at `index` in the tree of `size` with `root`. */
export function verifyInclusion(index: number, size: number, hash: string, path: string[], root: string): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = hash;
  for (const p of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r === root;
}

/** RFC 9162 §2.1.4.2: whether `path` proves the tree (first, firstRoot) a prefix of (second, secondRoot). */
export function verifyConsistency(first: number, second: number, firstRoot: string, secondRoot: string, path: string[]): boolean {
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 1 || first > second) return false;
  // Equal sizes: PROOF is empty and the heads must agree (§2.1.4.1 defines no path for m = n).
  if (first === second) return path.length === 0 && firstRoot === secondRoot;
  if (path.length === 0) return false;
  const proof = isPowerOfTwo(first) ? [firstRoot, ...path] : [...path];
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = proof[0]!;
  let sr = proof[0]!;
  for (const c of proof.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return fr === firstRoot && sr === secondRoot && sn === 0;
}

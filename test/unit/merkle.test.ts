/** The Merkle tree against RFC 9162 §2.1 computed the slow way, for every size up to 40. */
import { createHash } from 'node:crypto';
import {
  EMPTY_ROOT,
  MerkleFrontier,
  consistencyPath,
  frontierKeys,
  inclusionPath,
  leafHash,
  nodeHash,
  nodesNeeded,
  verifyConsistency,
  verifyInclusion,
  type NodeKey,
} from '../../src/audit/merkle.js';

/** MTH(D[n]) straight from §2.1.1. */
function mth(leaves: string[]): string {
  if (leaves.length === 0) return createHash('sha256').digest('hex');
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

const leaves = Array.from({ length: 40 }, (_, i) => leafHash(`event ${i}`));
const stored = new Map<string, string>();
const frontier = MerkleFrontier.empty();
const roots = [EMPTY_ROOT];
for (const [index, leaf] of leaves.entries()) {
  stored.set(`0:${index}`, leaf);
  for (const node of frontier.push(leaf)) stored.set(`${node.key.level}:${node.key.index}`, node.hash);
  roots.push(frontier.root());
}
const lookup = (key: NodeKey) => {
  const hash = stored.get(`${key.level}:${key.index}`);
  if (!hash) throw new Error(`no node ${key.level}:${key.index}`);
  return hash;
};
const flip = (hex: string) => `${hex[0] === '0' ? '1' : '0'}${hex.slice(1)}`;

describe('Merkle tree (RFC 9162 §2.1)', () => {
  it('hashes leaves and nodes with the 0x00 / 0x01 prefixes', () => {
    expect(leafHash('')).toBe(
      createHash('sha256')
        .update(Buffer.from([0]))
        .digest('hex'),
    );
    const [a, b] = [leafHash('a'), leafHash('b')];
    expect(nodeHash(a, b)).toBe(
      createHash('sha256')
        .update(Buffer.concat([Buffer.from([1]), Buffer.from(a, 'hex'), Buffer.from(b, 'hex')]))
        .digest('hex'),
    );
    expect(EMPTY_ROOT).toBe(mth([]));
  });

  it('the frontier gives MTH(D[n]) for every n and stores every perfect subtree', () => {
    for (let n = 0; n <= leaves.length; n += 1) expect(roots[n]).toBe(mth(leaves.slice(0, n)));
    expect(stored.get('3:1')).toBe(mth(leaves.slice(8, 16)));
    for (let n = 1; n <= leaves.length; n += 1) expect(MerkleFrontier.fromNodes(n, lookup).root()).toBe(roots[n]);
    expect(frontierKeys(13)).toEqual([
      { level: 3, index: 0 },
      { level: 2, index: 2 },
      { level: 0, index: 12 },
    ]);
  });

  it('inclusion proofs verify for every leaf of every size and fail when anything is changed', () => {
    for (let n = 1; n <= leaves.length; n += 1) {
      for (let m = 0; m < n; m += 1) {
        const path = inclusionPath(m, n, lookup);
        expect(verifyInclusion(m, n, leaves[m]!, path, roots[n]!)).toBe(true);
        expect(verifyInclusion(m, n, flip(leaves[m]!), path, roots[n]!)).toBe(false);
        if (path.length > 0) expect(verifyInclusion(m, n, leaves[m]!, [flip(path[0]!), ...path.slice(1)], roots[n]!)).toBe(false);
        if (n > 1) expect(verifyInclusion((m + 1) % n, n, leaves[m]!, path, roots[n]!)).toBe(false);
      }
    }
    expect(verifyInclusion(5, 5, leaves[0]!, [], roots[5]!)).toBe(false);
  });

  it('consistency proofs verify between every two sizes and fail when anything is changed', () => {
    for (let n = 1; n <= leaves.length; n += 1) {
      for (let m = 1; m <= n; m += 1) {
        const path = consistencyPath(m, n, lookup);
        expect(verifyConsistency(m, n, roots[m]!, roots[n]!, path)).toBe(true);
        if (m < n) {
          expect(verifyConsistency(m, n, flip(roots[m]!), roots[n]!, path)).toBe(false);
          expect(verifyConsistency(m, n, roots[m]!, flip(roots[n]!), path)).toBe(false);
          expect(verifyConsistency(m, n, roots[m]!, roots[n]!, [flip(path[0]!), ...path.slice(1)])).toBe(false);
        }
      }
    }
  });

  it('says which nodes a proof reads, so they can be fetched in one query', () => {
    const keys = nodesNeeded((look) => inclusionPath(5, 13, look));
    expect(keys.length).toBeLessThanOrEqual(6);
    const only = new Map(keys.map((key) => [`${key.level}:${key.index}`, lookup(key)]));
    expect(inclusionPath(5, 13, (key) => only.get(`${key.level}:${key.index}`)!)).toEqual(inclusionPath(5, 13, lookup));
  });
});

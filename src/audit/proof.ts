/**
 * Proof bundles: what a customer or an auditor keeps and checks offline with
 * nothing but the issuer's public keys. An inclusion bundle holds one event,
 * its RFC 9162 §2.1.3 audit path and the signed tree head it leads to; a
 * consistency bundle two signed heads and the §2.1.4 path between them.
 */
import type { JSONWebKeySet } from 'jose';
import { contentHash, eventLeafHash } from './hash.js';
import { verifyConsistency, verifyInclusion } from './merkle.js';
import { fromJson } from './rows.js';
import { jwksTreeHeadVerifier } from './tree-head.js';

export const INCLUSION_FORMAT = 'behalf-audit-inclusion-proof/1';
export const CONSISTENCY_FORMAT = 'behalf-audit-consistency-proof/1';

export interface SignedHeadJson {
  tree_size: number;
  root_hash: string;
  created_at: string;
  jws: string;
}

export interface InclusionBundle {
  format: typeof INCLUSION_FORMAT;
  table: string;
  issuer: string;
  seq: number;
  leaf_index: number;
  event: Record<string, unknown>;
  tree_head: SignedHeadJson;
  inclusion_path: string[];
  /** The issuer's public keys, for convenience: pin them with the published JWKS (`--keys`). */
  keys: JSONWebKeySet;
}

export interface ConsistencyBundle {
  format: typeof CONSISTENCY_FORMAT;
  table: string;
  issuer: string;
  first: SignedHeadJson;
  second: SignedHeadJson;
  consistency_path: string[];
  keys: JSONWebKeySet;
}

export type ProofBundle = InclusionBundle | ConsistencyBundle;

export interface ProofVerdict {
  ok: boolean;
  /** One line: what was proven, or why not. */
  summary: string;
  /** Whether the keys came from the bundle itself (unpinned: proves consistency, not origin). */
  keysFromBundle: boolean;
}

const HEX64 = /^[0-9a-f]{64}$/;

function isPath(value: unknown): value is string[] {
  return Array.isArray(value) && value.length <= 64 && value.every((item) => typeof item === 'string' && HEX64.test(item));
}

function isHead(value: unknown): value is SignedHeadJson {
  const head = value as SignedHeadJson;
  return (
    typeof head === 'object' &&
    head !== null &&
    Number.isSafeInteger(head.tree_size) &&
    typeof head.root_hash === 'string' &&
    typeof head.jws === 'string'
  );
}

/**
 * Checks a bundle: the head signatures (with `pinned` keys when given, else
 * the bundle's own), that they sign this log's sizes and roots, and the path.
 */
export async function verifyProofBundle(bundle: unknown, pinned?: { keys: JSONWebKeySet; issuer?: string }): Promise<ProofVerdict> {
  const keysFromBundle = !pinned;
  const refuse = (summary: string): ProofVerdict => ({ ok: false, summary, keysFromBundle });
  if (typeof bundle !== 'object' || bundle === null) return refuse('not a proof bundle');
  const b = bundle as ProofBundle;
  if (typeof b.table !== 'string' || typeof b.issuer !== 'string') return refuse('not a proof bundle (table, issuer)');
  if (pinned?.issuer && pinned.issuer !== b.issuer) return refuse(`issued by ${b.issuer}, not ${pinned.issuer}`);
  const keys = pinned?.keys ?? b.keys;
  if (!keys || !Array.isArray(keys.keys)) return refuse('no public keys to check the tree heads with');
  const verify = jwksTreeHeadVerifier(keys, b.issuer);
  const checkHead = async (head: SignedHeadJson, label: string): Promise<string | undefined> => {
    try {
      const signed = await verify(head.jws);
      if (signed.table !== b.table || signed.treeSize !== head.tree_size || signed.rootHash !== head.root_hash)
        return `the ${label} tree head's signature covers another log, size or root`;
      return undefined;
    } catch (error) {
      return `the ${label} tree head's signature does not verify (${(error as Error).message})`;
    }
  };

  if (b.format === INCLUSION_FORMAT) {
    if (!isHead(b.tree_head) || !isPath(b.inclusion_path) || !Number.isSafeInteger(b.leaf_index) || typeof b.event !== 'object')
      return refuse('malformed inclusion proof');
    const headProblem = await checkHead(b.tree_head, 'signed');
    if (headProblem) return refuse(headProblem);
    let leaf: string;
    try {
      const event = fromJson(b.event);
      if (event.seq !== b.seq || b.leaf_index !== b.seq - 1) return refuse('the event is not at the position the proof names');
      if (contentHash(event) !== event.contentHash) return refuse(`event ${b.seq} was altered (its content does not match its hash)`);
      leaf = eventLeafHash(event);
    } catch (error) {
      return refuse(`the event cannot be read (${(error as Error).message})`);
    }
    if (!verifyInclusion(b.leaf_index, b.tree_head.tree_size, leaf, b.inclusion_path, b.tree_head.root_hash))
      return refuse(`event ${b.seq} is NOT included in the signed tree of size ${b.tree_head.tree_size}`);
    return {
      ok: true,
      keysFromBundle,
      summary: `event ${b.seq} (${String(b.event.type)}) is included in ${b.table}'s signed tree of size ${b.tree_head.tree_size} (root ${b.tree_head.root_hash.slice(0, 16)}…, signed by ${b.issuer})`,
    };
  }
  if (b.format === CONSISTENCY_FORMAT) {
    if (!isHead(b.first) || !isHead(b.second) || !isPath(b.consistency_path)) return refuse('malformed consistency proof');
    for (const [head, label] of [
      [b.first, 'first'],
      [b.second, 'second'],
    ] as const) {
      const problem = await checkHead(head, label);
      if (problem) return refuse(problem);
    }
    if (!verifyConsistency(b.first.tree_size, b.second.tree_size, b.first.root_hash, b.second.root_hash, b.consistency_path))
      return refuse(`the tree of size ${b.second.tree_size} is NOT an append-only extension of the tree of size ${b.first.tree_size}`);
    return {
      ok: true,
      keysFromBundle,
      summary: `the signed tree of size ${b.second.tree_size} extends the signed tree of size ${b.first.tree_size} (nothing before was changed or removed)`,
    };
  }
  return refuse(`unknown proof format ${JSON.stringify((b as { format?: unknown }).format)}`);
}

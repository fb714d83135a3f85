/**
 * The Merkle log's stored side: perfect subtree hashes (`<t>_node`, level ≥ 1;
 * level 0 is each event's leaf), how many leaves they cover (`<t>_tree`) and
 * the signed tree heads (`<t>_tree_head`). Proofs read O(log n) nodes in two
 * queries, whatever the log's size.
 */
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { eventLeafHash } from './hash.js';
import { MerkleFrontier, consistencyPath, inclusionPath, nodesNeeded, type NodeKey, type NodeLookup } from './merkle.js';
import { AUDIT_COLUMNS, toEvent, type AuditRow } from './rows.js';
import { assertAuditTableName } from './schema.js';

type Queryable = Pick<DataSource | EntityManager | QueryRunner, 'query'>;

export interface TreeHead {
  id: number;
  treeSize: number;
  rootHash: string;
  createdAt: Date;
  /** Compact JWS over `{ table, tree_size, root_hash, iat }`. */
  jws: string;
}

interface TreeHeadRow {
  id: string | number;
  tree_size: string | number;
  root_hash: string;
  created_at: Date | string;
  jws: string;
}

function toTreeHead(row: TreeHeadRow): TreeHead {
  return {
    id: Number(row.id),
    treeSize: Number(row.tree_size),
    rootHash: row.root_hash,
    createdAt: row.created_at instanceof Date ? row.created_at : new Date(row.created_at),
    jws: row.jws,
  };
}

export class MerkleLogStore {
  readonly table: string;

  constructor(table = 'audit_event') {
    this.table = assertAuditTableName(table);
  }

  async treeSize(db: Queryable, forUpdate = false): Promise<number> {
    const [row] = (await db.query(`SELECT size FROM ${this.table}_tree WHERE id = 1${forUpdate ? ' FOR UPDATE' : ''}`)) as {
      size: string;
    }[];
    return Number(row?.size ?? 0);
  }

  /** The hashes of `keys`: leaves from the events, interior nodes from the node table. */
  async nodes(db: Queryable, keys: NodeKey[]): Promise<NodeLookup> {
    const found = new Map<string, string>();
    const leaves = keys.filter((key) => key.level === 0).map((key) => key.index + 1);
    const inner = keys.filter((key) => key.level > 0);
    if (leaves.length > 0) {
      const rows = (await db.query(`SELECT ${AUDIT_COLUMNS} FROM ${this.table} WHERE seq = ANY($1::bigint[])`, [leaves])) as AuditRow[];
      for (const row of rows) {
        const event = toEvent(row);
        found.set(`0:${event.seq! - 1}`, event.leafHash ?? eventLeafHash(event));
      }
    }
    if (inner.length > 0) {
      const rows = (await db.query(
        `SELECT n.level, n.idx, n.hash FROM ${this.table}_node n
           JOIN unnest($1::smallint[], $2::bigint[]) AS k(level, idx) ON n.level = k.level AND n.idx = k.idx`,
        [inner.map((key) => key.level), inner.map((key) => key.index)],
      )) as { level: number; idx: string; hash: string }[];
      for (const row of rows) found.set(`${row.level}:${Number(row.idx)}`, row.hash);
    }
    return (key) => {
      const hash = found.get(`${key.level}:${key.index}`);
      if (hash === undefined) throw new Error(`the audit log has no node ${key.level}:${key.index} (tree not built that far?)`);
      return hash;
    };
  }

  async frontier(db: Queryable, size: number): Promise<MerkleFrontier> {
    const lookup = await this.nodes(
      db,
      nodesNeeded((look) => MerkleFrontier.fromNodes(size, look)),
    );
    return MerkleFrontier.fromNodes(size, lookup);
  }

  /** Stores the subtrees a batch completed. */
  async addNodes(db: Queryable, nodes: { key: NodeKey; hash: string }[]): Promise<void> {
    for (let i = 0; i < nodes.length; i += 10_000) {
      const chunk = nodes.slice(i, i + 10_000);
      await db.query(`INSERT INTO ${this.table}_node (level, idx, hash) SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::text[])`, [
        chunk.map((node) => node.key.level),
        chunk.map((node) => node.key.index),
        chunk.map((node) => node.hash),
      ]);
    }
  }

  async setTreeSize(db: Queryable, size: number): Promise<void> {
    await db.query(`UPDATE ${this.table}_tree SET size = $1 WHERE id = 1`, [size]);
  }

  /** RFC 9162 §2.1.3.1 for the event at `seq` (leaf seq − 1) in the tree of `size`. */
  async inclusionPath(db: Queryable, seq: number, size: number): Promise<string[]> {
    const lookup = await this.nodes(
      db,
      nodesNeeded((look) => inclusionPath(seq - 1, size, look)),
    );
    return inclusionPath(seq - 1, size, lookup);
  }

  /** RFC 9162 §2.1.4.1 between two tree sizes. */
  async consistencyPath(db: Queryable, first: number, second: number): Promise<string[]> {
    const lookup = await this.nodes(
      db,
      nodesNeeded((look) => consistencyPath(first, second, look)),
    );
    return consistencyPath(first, second, lookup);
  }

  async addTreeHead(db: Queryable, head: Omit<TreeHead, 'id'>): Promise<TreeHead> {
    const [row] = (await db.query(
      `INSERT INTO ${this.table}_tree_head (tree_size, root_hash, created_at, jws) VALUES ($1, $2, $3, $4) RETURNING *`,
      [head.treeSize, head.rootHash, head.createdAt, head.jws],
    )) as TreeHeadRow[];
    return toTreeHead(row!);
  }

  async treeHeads(db: Queryable): Promise<TreeHead[]> {
    return ((await db.query(`SELECT * FROM ${this.table}_tree_head ORDER BY tree_size, id`)) as TreeHeadRow[]).map(toTreeHead);
  }

  /** The newest signed head. */
  async latestTreeHead(db: Queryable): Promise<TreeHead | undefined> {
    const [row] = (await db.query(`SELECT * FROM ${this.table}_tree_head ORDER BY tree_size DESC, id DESC LIMIT 1`)) as TreeHeadRow[];
    return row && toTreeHead(row);
  }

  async treeHeadOfSize(db: Queryable, size: number): Promise<TreeHead | undefined> {
    const [row] = (await db.query(`SELECT * FROM ${this.table}_tree_head WHERE tree_size = $1 ORDER BY id DESC LIMIT 1`, [
      size,
    ])) as TreeHeadRow[];
    return row && toTreeHead(row);
  }
}

/**
 * The sequencer: one per cluster, elected, orders committed events into the
 * Merkle log in batches, off every request path.
 *
 * Election: a session advisory lock held on a dedicated connection. Every
 * instance runs a sequencer; the one holding the lock works, the others try
 * again every `electionMs`. All the leader's work runs on that connection, so
 * a leader whose connection died can do nothing more, and the lock it held is
 * free at once (a killed process closes its socket; PostgreSQL ends the
 * backend and its locks). Takeover therefore takes at most `electionMs` plus
 * one tick.
 *
 * A tick, in one transaction: read up to `batchSize` pending events in queue
 * order, hash their leaves, give them their seq (`<t>_sequence`), store the
 * subtrees they complete, move the tree size. Then, at most every
 * `treeHeadMs`, sign the new head from the frontier in memory (never
 * re-read from the database between ticks), write it outside the database
 * first, then into it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource, QueryRunner } from 'typeorm';
import type { ExternalCheckpointArchive } from './external-checkpoints.js';
import { eventLeafHash } from './hash.js';
import { MerkleLogStore, type TreeHead } from './log-store.js';
import type { MerkleFrontier, NodeKey } from './merkle.js';
import { AUDIT_COLUMNS, toEvent, type AuditRow } from './rows.js';
import type { TreeHeadSigner } from './tree-head.js';

export interface SequencerLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface SequencerOptions {
  /** Pause between ticks that found less than a full batch. */
  intervalMs?: number;
  batchSize?: number;
  /** How often a follower tries to become the sequencer. */
  electionMs?: number;
  /** Least time between two signed tree heads (a head is signed only when the tree grew). */
  treeHeadMs?: number;
  /** Signs tree heads; none: the log is sequenced but no head is signed (tests, tools). */
  signer?: () => Promise<TreeHeadSigner>;
  /** Where each head is written before the database; undefined: database only. */
  external?: ExternalCheckpointArchive;
  logger?: SequencerLogger;
}

const quiet: SequencerLogger = { info() {}, warn() {}, error() {} };

export class AuditSequencer {
  readonly store: MerkleLogStore;
  private runner: QueryRunner | undefined;
  private frontier: MerkleFrontier | undefined;
  private lastHead: { treeSize: number; at: number } | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private wake: AbortController | undefined;
  /** Ticks never overlap (the loop and `drain` share one connection). */
  private turn: Promise<unknown> = Promise.resolve();
  private readonly options: Required<Omit<SequencerOptions, 'signer' | 'external'>> & Pick<SequencerOptions, 'signer' | 'external'>;

  constructor(
    private readonly dataSource: DataSource,
    readonly table = 'audit_event',
    options: SequencerOptions = {},
  ) {
    this.store = new MerkleLogStore(table);
    this.options = { intervalMs: 200, batchSize: 5000, electionMs: 1000, treeHeadMs: 1000, logger: quiet, ...options };
  }

  get isLeader(): boolean {
    return this.runner !== undefined;
  }

  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.abort();
    await this.loop;
    this.loop = undefined;
    await this.stepDown(true);
  }

  /** For tools and tests: become leader if free, sequence everything pending and sign a head. */
  async drain(): Promise<TreeHead | undefined> {
    return this.exclusive(async () => {
      if (!(await this.elect())) throw new Error(`another process is sequencing ${this.table}`);
      try {
        while ((await this.tick()) > 0);
        return await this.signHead(true);
      } finally {
        if (!this.loop) await this.stepDown(true);
      }
    });
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.turn.then(work);
    this.turn = result.catch(() => undefined);
    return result;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let pause: number;
      try {
        pause = await this.exclusive(async () => {
          if (!this.runner && !(await this.elect())) return this.options.electionMs;
          const moved = await this.tick();
          await this.signHead(false).catch((error: Error) =>
            this.options.logger.error('audit tree head not signed (retrying at the next tick)', { error: error.message }),
          );
          return moved === this.options.batchSize ? 0 : this.options.intervalMs;
        });
      } catch (error) {
        if (!this.stopping)
          this.options.logger.warn('audit sequencer stepped down', { error: (error as Error).message, table: this.table });
        await this.stepDown(false);
        pause = this.options.electionMs;
      }
      if (pause > 0 && !this.stopping) {
        this.wake = new AbortController();
        await sleep(pause, undefined, { signal: this.wake.signal }).catch(() => undefined);
      }
    }
  }

  private async elect(): Promise<boolean> {
    if (this.runner) return true;
    const runner = this.dataSource.createQueryRunner();
    try {
      await runner.connect();
      const [row] = (await runner.query(`SELECT pg_try_advisory_lock(hashtext($1)) AS ok`, [`${this.table}_sequencer`])) as {
        ok: boolean;
      }[];
      if (!row?.ok) {
        await runner.release();
        return false;
      }
    } catch (error) {
      await runner.release().catch(() => undefined);
      throw error;
    }
    this.runner = runner;
    this.frontier = undefined;
    const head = await this.store.latestTreeHead(runner);
    this.lastHead = head && { treeSize: head.treeSize, at: head.createdAt.getTime() };
    this.options.logger.info('audit sequencer elected', { table: this.table });
    return true;
  }

  private async stepDown(clean: boolean): Promise<void> {
    const runner = this.runner;
    this.runner = undefined;
    this.frontier = undefined;
    if (!runner) return;
    // A live connection goes back to the pool clean (no transaction, no lock); a dead one is dropped by the pool.
    if (!clean) await runner.query('ROLLBACK').catch(() => undefined);
    await runner.query(`SELECT pg_advisory_unlock(hashtext($1))`, [`${this.table}_sequencer`]).catch(() => undefined);
    await runner.release().catch(() => undefined);
  }

  /** One batch; returns how many leaves it added. */
  private async tick(): Promise<number> {
    const runner = this.runner!;
    const t = this.table;
    await runner.startTransaction();
    try {
      const size = await this.store.treeSize(runner, true);
      if (!this.frontier || this.frontier.size !== size) this.frontier = await this.store.frontier(runner, size);
      const frontier = this.frontier;
      const [{ head }] = (await runner.query(`SELECT coalesce(max(seq), 0) AS head FROM ${t}`)) as [{ head: string }];
      const added: { key: NodeKey; hash: string }[] = [];
      let leaves: string[];
      if (size < Number(head)) {
        // Events chained before the log: they have their seq; build the tree over them first.
        const rows = (await runner.query(`SELECT ${AUDIT_COLUMNS} FROM ${t} WHERE seq > $1 ORDER BY seq LIMIT $2`, [
          size,
          this.options.batchSize,
        ])) as AuditRow[];
        leaves = rows.map((row, index) => {
          const event = toEvent(row);
          if (event.seq !== size + 1 + index) throw new Error(`audit log: event ${size + 1 + index} is missing`);
          return event.leafHash ?? eventLeafHash(event);
        });
      } else {
        const rows = (await runner.query(`SELECT ${AUDIT_COLUMNS} FROM ${t} WHERE seq IS NULL ORDER BY qid LIMIT $1`, [
          this.options.batchSize,
        ])) as AuditRow[];
        const events = rows.map(toEvent);
        leaves = events.map((event) => eventLeafHash(event));
        if (events.length > 0) {
          const [{ size: after }] = (await runner.query(`SELECT ${t}_sequence($1::bigint[], $2::text[]) AS size`, [
            events.map((event) => event.qid),
            leaves,
          ])) as [{ size: string }];
          if (Number(after) !== size + events.length)
            throw new Error(`audit log: sequenced up to ${after}, expected ${size + events.length} (a second sequencer?)`);
        }
      }
      for (const leaf of leaves) added.push(...frontier.push(leaf));
      if (leaves.length > 0) {
        await this.store.addNodes(runner, added);
        await this.store.setTreeSize(runner, frontier.size);
      }
      await runner.commitTransaction();
      return leaves.length;
    } catch (error) {
      this.frontier = undefined;
      await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    }
  }

  /** Signs the frontier's head when the tree grew (and `treeHeadMs` passed, unless forced). */
  private async signHead(force: boolean): Promise<TreeHead | undefined> {
    const runner = this.runner;
    const frontier = this.frontier;
    if (!runner || !frontier || !this.options.signer || frontier.size === 0) return undefined;
    if (this.lastHead?.treeSize === frontier.size && !force) return undefined;
    if (this.lastHead && !force && Date.now() - this.lastHead.at < this.options.treeHeadMs) return undefined;
    if (this.lastHead?.treeSize === frontier.size) return this.store.latestTreeHead(runner);
    const treeSize = frontier.size;
    const rootHash = frontier.root();
    const signer = await this.options.signer();
    const jws = await signer.sign({ table: this.table, treeSize, rootHash });
    const createdAt = new Date();
    // Outside first: every head in the database then also exists where its roles cannot reach.
    await this.options.external?.append({ table: this.table, seq: treeSize, hash: rootHash, createdAt, jws });
    const head = await this.store.addTreeHead(runner, { treeSize, rootHash, createdAt, jws });
    this.lastHead = { treeSize, at: createdAt.getTime() };
    return head;
  }
}

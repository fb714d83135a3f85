/**
 * Behalf's side of the audit log: the writer every component records
 * through, the sequencer (elected among instances) that orders records into
 * the Merkle log and signs tree heads with Behalf's active ES256 key (copied
 * outside the database first), verification against every key Behalf ever
 * published and the external copies, and proofs for one event or between two heads.
 */
import type { JSONWebKeySet } from 'jose';
import type { DataSource, EntityManager } from 'typeorm';
import {
  AuditRepository,
  AuditSequencer,
  AuditWriter,
  COMPANION_FIRST_PARAM,
  CONSISTENCY_FORMAT,
  ExternalCheckpointError,
  GENESIS_HASH,
  INCLUSION_FORMAT,
  MAX_PENDING_MS,
  auditEventToJson,
  exportChain,
  jwkTreeHeadSigner,
  jwksCheckpointVerifier,
  jwksTreeHeadVerifier,
  verifyChain,
  type AppendedEvent,
  type AuditEventInput,
  type ConsistencyBundle,
  type ExternalCheckpoints,
  type ExternalCheckpointArchive,
  type InclusionBundle,
  type SequencerOptions,
  type TreeHead,
  type TreeHeadSigner,
  type VerifyResult,
} from '../../audit/index.js';
import { loadKeystore, publicKeys } from '../keys/key-store.js';
import { statusInsert, takeDeferredStatuses } from '../token-status/deferred-registration.js';
import type { Logger } from '../observability/logger.js';
import type { Sealer } from '../secrets/sealer.js';

export const BEHALF_AUDIT_TABLE = 'audit_event';

/** A proof that cannot be given (yet): the event is pending, or no signed head covers it. */
export class ProofUnavailableError extends Error {
  override name = 'ProofUnavailableError';
}

export interface ExternalTreeHeads {
  source: string;
  heads: { treeSize: number; rootHash: string; createdAt: Date; jws: string }[];
}

export class AuditService {
  readonly writer = new AuditWriter(BEHALF_AUDIT_TABLE);
  readonly events: AuditRepository;
  readonly sequencer: AuditSequencer;
  private signer: { value: Promise<TreeHeadSigner>; until: number } | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly sealer: Sealer,
    private readonly issuer: string,
    logger: Logger,
    /** Where each checkpoint of the chain before the log went; undefined when switched off. */
    readonly externalCheckpoints?: ExternalCheckpointArchive,
    /** Where each signed tree head is written first; undefined when switched off. */
    readonly externalTreeHeads?: ExternalCheckpointArchive,
    sequencerOptions: Omit<SequencerOptions, 'signer' | 'external' | 'logger'> = {},
  ) {
    this.events = new AuditRepository(dataSource, BEHALF_AUDIT_TABLE);
    this.sequencer = new AuditSequencer(dataSource, BEHALF_AUDIT_TABLE, {
      ...sequencerOptions,
      signer: () => this.treeHeadSigner(),
      external: externalTreeHeads,
      logger,
    });
  }

  /**
   * Records an event: inside `manager`'s transaction when given, else on its own. Status rows of
   * tokens this request signed (token-status/deferred-registration.ts) commit with it, in its statement.
   */
  async record(event: AuditEventInput, manager?: EntityManager): Promise<AppendedEvent> {
    const statuses = takeDeferredStatuses();
    return this.writer.append(
      manager ?? this.dataSource,
      event,
      statuses.length ? statusInsert(statuses, COMPANION_FIRST_PARAM) : undefined,
    );
  }

  /** Public keys of every signing key, retired ones included: old heads and checkpoints stay verifiable. */
  async verificationKeys(): Promise<JSONWebKeySet> {
    return (await publicKeys(this.dataSource, 'all')) as JSONWebKeySet;
  }

  /** The active ES256 key, looked up again at most once a minute (keys rotate). */
  private treeHeadSigner(): Promise<TreeHeadSigner> {
    if (!this.signer || this.signer.until < Date.now()) {
      const value = loadKeystore(this.dataSource, this.sealer).then(({ jwks }) => {
        const key = jwks.keys.find((jwk) => jwk.alg === 'ES256' && !jwk.key_ops);
        if (!key) throw new Error('no active ES256 key to sign audit tree heads');
        return jwkTreeHeadSigner(key, this.issuer);
      });
      value.catch(() => (this.signer = undefined));
      this.signer = { value, until: Date.now() + 60_000 };
    }
    return this.signer.value;
  }

  /** Sequences what is pending now and signs a head over it (`audit checkpoint`; the sequencer does this on its own). */
  async checkpoint(): Promise<TreeHead | undefined> {
    return this.sequencer.drain();
  }

  async treeHeads(): Promise<TreeHead[]> {
    return this.sequencer.store.treeHeads(this.dataSource);
  }

  /** Walks the log against its signed heads and checkpoints: the database's, and the external ones (default: the configured stores'). */
  async verify(external?: ExternalCheckpoints, externalHeads?: ExternalTreeHeads): Promise<VerifyResult> {
    let outside = external;
    let outsideHeads = externalHeads;
    try {
      if (!outside && this.externalCheckpoints)
        outside = { source: this.externalCheckpoints.location, checkpoints: await this.externalCheckpoints.readAll() };
      if (!outsideHeads && this.externalTreeHeads) {
        const heads = await this.externalTreeHeads.readAll();
        outsideHeads = {
          source: this.externalTreeHeads.location,
          heads: heads.map((head) => ({ treeSize: head.seq, rootHash: head.hash, createdAt: head.createdAt, jws: head.jws })),
        };
      }
    } catch (error) {
      if (!(error instanceof ExternalCheckpointError)) throw error;
      // Unreadable external copies vouch for nothing: a failed verification, not a crash.
      return {
        ok: false,
        events: 0,
        lastSeq: 0,
        lastHash: GENESIS_HASH,
        checkpoints: 0,
        problem: { seq: 1, reason: `the external checkpoints cannot be read: ${error.message}` },
      };
    }
    const keys = await this.verificationKeys();
    const pending = (await this.dataSource.query(`SELECT qid FROM ${BEHALF_AUDIT_TABLE} WHERE seq IS NULL`)) as { qid: string }[];
    return verifyChain(
      BEHALF_AUDIT_TABLE,
      this.events.stream(),
      await this.events.checkpoints(),
      jwksCheckpointVerifier(keys, this.issuer),
      outside,
      {
        heads: await this.treeHeads(),
        ...(outsideHeads ? { external: outsideHeads } : {}),
        // Any `iss`: the keys are Behalf's own (from its database), and the issuer URL may have changed over the log's life.
        verify: jwksTreeHeadVerifier(keys, undefined),
        pendingQids: pending.map((row) => Number(row.qid)),
        // Committed but not sequenced within the bound: a failed verification.
        overdue: await this.events.overdue(MAX_PENDING_MS),
      },
    );
  }

  /** The newest signed head covering `seq` (or of exactly `treeSize`), and the event's audit path to it. */
  async inclusionProof(seq: number, treeSize?: number): Promise<InclusionBundle> {
    const store = this.sequencer.store;
    const head =
      treeSize === undefined ? await store.latestTreeHead(this.dataSource) : await store.treeHeadOfSize(this.dataSource, treeSize);
    if (!head)
      throw new ProofUnavailableError(treeSize === undefined ? 'no signed tree head yet' : `no signed tree head of size ${treeSize}`);
    if (seq > head.treeSize)
      throw new ProofUnavailableError(
        `event ${seq} is not covered by a signed tree head yet (newest: size ${head.treeSize}); retry in a second`,
      );
    const row = await this.events.at(seq);
    if (!row) throw new ProofUnavailableError(`no event ${seq}`);
    return {
      format: INCLUSION_FORMAT,
      table: BEHALF_AUDIT_TABLE,
      issuer: this.issuer,
      seq,
      leaf_index: seq - 1,
      event: auditEventToJson(row),
      tree_head: headJson(head),
      inclusion_path: await store.inclusionPath(this.dataSource, seq, head.treeSize),
      keys: await this.verificationKeys(),
    };
  }

  async consistencyProof(first: number, second?: number): Promise<ConsistencyBundle> {
    const store = this.sequencer.store;
    const [a, b] = await Promise.all([
      store.treeHeadOfSize(this.dataSource, first),
      second === undefined ? store.latestTreeHead(this.dataSource) : store.treeHeadOfSize(this.dataSource, second),
    ]);
    if (!a) throw new ProofUnavailableError(`no signed tree head of size ${first}`);
    if (!b) throw new ProofUnavailableError(second === undefined ? 'no signed tree head yet' : `no signed tree head of size ${second}`);
    if (a.treeSize > b.treeSize)
      throw new ProofUnavailableError(`the first head (size ${a.treeSize}) is larger than the second (${b.treeSize})`);
    return {
      format: CONSISTENCY_FORMAT,
      table: BEHALF_AUDIT_TABLE,
      issuer: this.issuer,
      first: headJson(a),
      second: headJson(b),
      consistency_path: await store.consistencyPath(this.dataSource, a.treeSize, b.treeSize),
      keys: await this.verificationKeys(),
    };
  }

  async export(write: (line: string) => Promise<void> | void): Promise<number> {
    return exportChain(
      this.events,
      { table: BEHALF_AUDIT_TABLE, issuer: this.issuer, keys: await this.verificationKeys(), treeHeads: await this.treeHeads() },
      write,
    );
  }

  /** Runs this instance's sequencer: it works while elected, and stands by otherwise. */
  startSequencer(): void {
    this.sequencer.start();
  }

  async stop(): Promise<void> {
    await this.sequencer.stop();
  }
}

function headJson(head: TreeHead) {
  return { tree_size: head.treeSize, root_hash: head.rootHash, created_at: head.createdAt.toISOString(), jws: head.jws };
}

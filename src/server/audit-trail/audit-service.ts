/**
 * Behalf's side of the audit trail: the writer every component records
 * through, checkpoints signed with Behalf's active ES256 key (and copied
 * outside the database), and verification against every key Behalf ever
 * published and the external copies.
 */
import type { JSONWebKeySet } from 'jose';
import type { DataSource, EntityManager } from 'typeorm';
import {
  AuditRepository,
  AuditWriter,
  ExternalCheckpointError,
  GENESIS_HASH,
  createCheckpoint,
  exportChain,
  jwkCheckpointSigner,
  jwksCheckpointVerifier,
  verifyChain,
  type AppendedEvent,
  type AuditCheckpoint,
  type AuditEventInput,
  type ExternalCheckpoints,
  type ExternalCheckpointArchive,
  type VerifyResult,
} from '../../audit/index.js';
import { loadKeystore, publicKeys } from '../keys/key-store.js';
import type { Logger } from '../observability/logger.js';
import type { Sealer } from '../secrets/sealer.js';

export const BEHALF_AUDIT_TABLE = 'audit_event';

export class AuditService {
  readonly writer = new AuditWriter(BEHALF_AUDIT_TABLE);
  readonly events: AuditRepository;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly sealer: Sealer,
    private readonly issuer: string,
    private readonly logger: Logger,
    /** Where each checkpoint is also written; undefined when switched off. */
    readonly externalCheckpoints?: ExternalCheckpointArchive,
  ) {
    this.events = new AuditRepository(dataSource, BEHALF_AUDIT_TABLE);
  }

  /** Records an event: inside `manager`'s transaction when given (append last), else on its own. */
  async record(event: AuditEventInput, manager?: EntityManager): Promise<AppendedEvent> {
    return this.writer.append(manager ?? this.dataSource, event);
  }

  /** Public keys of every signing key, retired ones included: old checkpoints stay verifiable. */
  async verificationKeys(): Promise<JSONWebKeySet> {
    return (await publicKeys(this.dataSource, 'all')) as JSONWebKeySet;
  }

  async checkpoint(): Promise<AuditCheckpoint | undefined> {
    const { jwks } = await loadKeystore(this.dataSource, this.sealer);
    const key = jwks.keys.find((jwk) => jwk.alg === 'ES256' && !jwk.key_ops);
    if (!key) throw new Error('no active ES256 key to sign audit checkpoints');
    return createCheckpoint(this.dataSource, BEHALF_AUDIT_TABLE, jwkCheckpointSigner(key, this.issuer), this.externalCheckpoints);
  }

  /** Walks the chain against its checkpoints: the database's, and `external` (default: the configured store's). */
  async verify(external?: ExternalCheckpoints): Promise<VerifyResult> {
    let outside = external;
    try {
      if (!outside && this.externalCheckpoints)
        outside = { source: this.externalCheckpoints.location, checkpoints: await this.externalCheckpoints.readAll() };
    } catch (error) {
      if (!(error instanceof ExternalCheckpointError)) throw error;
      // Unreadable external checkpoints vouch for nothing: a failed verification, not a crash.
      return {
        ok: false,
        events: 0,
        lastSeq: 0,
        lastHash: GENESIS_HASH,
        checkpoints: 0,
        problem: { seq: 1, reason: `the external checkpoints cannot be read: ${error.message}` },
      };
    }
    return verifyChain(
      BEHALF_AUDIT_TABLE,
      this.events.stream(),
      await this.events.checkpoints(),
      jwksCheckpointVerifier(await this.verificationKeys(), this.issuer),
      outside,
    );
  }

  async export(write: (line: string) => Promise<void> | void): Promise<number> {
    return exportChain(this.events, { table: BEHALF_AUDIT_TABLE, issuer: this.issuer, keys: await this.verificationKeys() }, write);
  }

  startCheckpoints(intervalSeconds: number): void {
    this.timer = setInterval(() => {
      this.checkpoint().catch((error) => {
        // Nothing was sealed (the external copy is written first); the next tick tries again.
        if (error instanceof ExternalCheckpointError)
          this.logger.error('audit checkpoint not sealed: its external copy could not be written; retrying at the next interval', {
            error: error.message,
          });
        else this.logger.warn('audit checkpoint failed', { error });
      });
    }, intervalSeconds * 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

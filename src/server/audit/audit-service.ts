/**
 * Behalf's side of the audit trail: the writer every component records
 * through, checkpoints signed with Behalf's active ES256 key, and
 * verification against every key Behalf ever published.
 */
import type { JSONWebKeySet, JWK } from 'jose';
import type { DataSource, EntityManager } from 'typeorm';
import {
  AuditStore,
  AuditWriter,
  createCheckpoint,
  exportChain,
  jwkCheckpointSigner,
  jwksCheckpointVerifier,
  verifyChain,
  type AppendedEvent,
  type AuditCheckpoint,
  type AuditEventInput,
  type VerifyResult,
} from '../../audit/index.js';
import { loadKeystore } from '../keys/key-store.js';
import type { Logger } from '../observability/logger.js';
import type { Sealer } from '../secrets/sealer.js';

export const BEHALF_AUDIT_TABLE = 'audit_event';

export class AuditService {
  readonly writer = new AuditWriter(BEHALF_AUDIT_TABLE);
  readonly store: AuditStore;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly sealer: Sealer,
    private readonly issuer: string,
    private readonly logger: Logger,
  ) {
    this.store = new AuditStore(dataSource, BEHALF_AUDIT_TABLE);
  }

  /** Records an event: inside `manager`'s transaction when given (append last), else on its own. */
  async record(event: AuditEventInput, manager?: EntityManager): Promise<AppendedEvent> {
    return this.writer.append(manager ?? this.dataSource, event);
  }

  /** Public keys of every signing key, retired ones included: old checkpoints stay verifiable. */
  async verificationKeys(): Promise<JSONWebKeySet> {
    const rows = (await this.dataSource.query(`SELECT public_jwk FROM signing_key ORDER BY created_at`)) as { public_jwk: JWK }[];
    return { keys: rows.map((row) => row.public_jwk) };
  }

  async checkpoint(): Promise<AuditCheckpoint | undefined> {
    const { jwks } = await loadKeystore(this.dataSource, this.sealer);
    const key = jwks.keys.find((jwk) => jwk.alg === 'ES256' && !jwk.key_ops);
    if (!key) throw new Error('no active ES256 key to sign audit checkpoints');
    return createCheckpoint(this.dataSource, BEHALF_AUDIT_TABLE, jwkCheckpointSigner(key, this.issuer));
  }

  async verify(): Promise<VerifyResult> {
    return verifyChain(BEHALF_AUDIT_TABLE, this.store.stream(), await this.store.checkpoints(), jwksCheckpointVerifier(await this.verificationKeys(), this.issuer));
  }

  async export(write: (line: string) => Promise<void> | void): Promise<number> {
    return exportChain(this.store, { table: BEHALF_AUDIT_TABLE, issuer: this.issuer, keys: await this.verificationKeys() }, write);
  }

  startCheckpoints(intervalSeconds: number): void {
    this.timer = setInterval(() => {
      this.checkpoint().catch((error) => this.logger.warn('audit checkpoint failed', { error }));
    }, intervalSeconds * 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

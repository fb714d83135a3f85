/**
 * Grant revocations that must not be lost. Ending an on-behalf session queues
 * its grant in `on_behalf_grant_revocation` in the same transaction; the grant
 * is then revoked and the row removed. A revocation that fails (provider or
 * database error) is logged and stays queued: the expiry sweep retries it, so
 * no grant (and no opaque token under it) outlives its session for long.
 */
import type { DataSource, EntityManager } from 'typeorm';
import type { GrantPort } from './grant-port.js';

export interface RevocationLogger {
  warn(message: string, meta: Record<string, unknown>): unknown;
}

const FAILED = 'on_behalf.grant_revocation_failed';

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class GrantRevocations {
  constructor(
    private readonly dataSource: DataSource,
    private readonly grants: GrantPort,
    private readonly logger?: RevocationLogger,
  ) {}

  /** Queues a grant inside the caller's transaction (a session's end). */
  async queue(manager: EntityManager, grantId: string, sessionId: string | null): Promise<void> {
    await manager.query(`INSERT INTO on_behalf_grant_revocation (grant_id, session_id) VALUES ($1, $2) ON CONFLICT (grant_id) DO NOTHING`, [
      grantId,
      sessionId,
    ]);
  }

  /** Revokes a grant and clears its queue entry; on failure logs it and leaves it queued. Never throws. */
  async revoke(grantId: string, sessionId: string | null): Promise<boolean> {
    try {
      await this.grants.revoke(grantId);
      await this.dataSource.query(`DELETE FROM on_behalf_grant_revocation WHERE grant_id = $1`, [grantId]);
      return true;
    } catch (error) {
      this.logger?.warn('on-behalf grant revocation failed; the expiry sweep retries it', {
        event: FAILED,
        session_id: sessionId,
        error: reason(error),
      });
      return false;
    }
  }

  /**
   * A grant made for a session that did not open (no token was issued under it): revoked now,
   * or queued for the sweep when that fails.
   */
  async revokeUnused(grantId: string): Promise<void> {
    if (await this.revoke(grantId, null)) return;
    await this.queue(this.dataSource.manager, grantId, null).catch((error: unknown) =>
      this.logger?.warn('an unused on-behalf grant could not be queued for revocation; it lapses when it expires', {
        event: FAILED,
        error: reason(error),
      }),
    );
  }

  /**
   * The sweep: retries queued revocations, oldest first; returns how many succeeded. Stops at the
   * first failure, which is most likely the same outage for all (one log line per sweep, not one per grant).
   */
  async retryQueued(limit = 100): Promise<number> {
    const rows = (await this.dataSource.query(
      `SELECT grant_id, session_id FROM on_behalf_grant_revocation ORDER BY requested_at LIMIT $1`,
      [limit],
    )) as { grant_id: string; session_id: string | null }[];
    let revoked = 0;
    for (const row of rows) {
      if (!(await this.revoke(row.grant_id, row.session_id))) break;
      revoked += 1;
    }
    return revoked;
  }
}

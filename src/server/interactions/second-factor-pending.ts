/**
 * The password-verified state of an interaction that still awaits its second
 * factor (or, for a re-authentication, its reason). Kept in the database under the interaction's uid (which
 * oidc-provider binds to the browser's interaction cookie), never in a form
 * field, so a client cannot forge "password already checked".
 */
import type { DataSource } from 'typeorm';

export type PendingState =
  | { kind: 'login'; clientId: string; username: string }
  | { kind: 'reauth'; clientId: string; username: string; targetId: string; reason: string; ticket: string | null }
  /** A re-authentication whose password was right but whose reason was missing: only the reason is asked again. */
  | { kind: 'reauth-reason'; clientId: string; username: string; targetId: string };

export interface Pending {
  accountId: string;
  state: PendingState;
  attempts: number;
}

/** Wrong codes allowed per password check; then the password is asked again. */
export const MAX_CODE_ATTEMPTS = 5;
const PENDING_SECONDS = 300;

export class SecondFactorPending {
  constructor(private readonly dataSource: DataSource) {}

  async begin(uid: string, accountId: string, state: PendingState, now = new Date()): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO totp_pending (interaction_uid, account_id, state, attempts, expires_at) VALUES ($1, $2, $3, 0, $4)
       ON CONFLICT (interaction_uid) DO UPDATE SET account_id = EXCLUDED.account_id, state = EXCLUDED.state, attempts = 0, expires_at = EXCLUDED.expires_at`,
      [uid, accountId, JSON.stringify(state), new Date(now.getTime() + PENDING_SECONDS * 1000)],
    );
    // Housekeeping: abandoned second steps do not pile up.
    await this.dataSource.query(`DELETE FROM totp_pending WHERE expires_at < $1`, [now]);
  }

  async find(uid: string, now = new Date()): Promise<Pending | undefined> {
    const [row] = (await this.dataSource.query(
      `SELECT account_id, state, attempts FROM totp_pending WHERE interaction_uid = $1 AND expires_at > $2`,
      [uid, now],
    )) as {
      account_id: string;
      state: PendingState;
      attempts: number;
    }[];
    return row ? { accountId: row.account_id, state: row.state, attempts: row.attempts } : undefined;
  }

  /** Counts a wrong code; true when the attempts are used up (the state is then gone). */
  async failed(uid: string): Promise<boolean> {
    const [rows] = (await this.dataSource.query(
      `UPDATE totp_pending SET attempts = attempts + 1 WHERE interaction_uid = $1 RETURNING attempts`,
      [uid],
    )) as [{ attempts: number }[], number];
    const attempts = rows[0]?.attempts ?? MAX_CODE_ATTEMPTS;
    if (attempts < MAX_CODE_ATTEMPTS) return false;
    await this.end(uid);
    return true;
  }

  /** Consumes the state; false when another request already did. */
  async end(uid: string): Promise<boolean> {
    const [, affected] = (await this.dataSource.query(`DELETE FROM totp_pending WHERE interaction_uid = $1`, [uid])) as [unknown, number];
    return affected > 0;
  }
}

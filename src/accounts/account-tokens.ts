/**
 * Single-use links sent by mail (password reset, email verification): 32
 * random bytes, base64url, of which only the SHA-256 is stored. Using one
 * consumes it atomically, so two racing requests cannot both succeed.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';

export type AccountTokenPurpose = 'password_reset' | 'email_verification';

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export const hashToken = (value: string) => createHash('sha256').update(value).digest('hex');

export class AccountTokens {
  constructor(private readonly dataSource: DataSource) {}

  /** A new token for the account (inside the caller's transaction); returns its value, which only the mail carries. */
  async issue(manager: EntityManager, accountId: string, purpose: AccountTokenPurpose, ttlSeconds: number): Promise<string> {
    const value = randomBytes(32).toString('base64url');
    await manager.query(
      `INSERT INTO account_token (account_id, purpose, token_hash, expires_at) VALUES ($1, $2, $3, now() + make_interval(secs => $4))`,
      [accountId, purpose, hashToken(value), ttlSeconds],
    );
    return value;
  }

  /** The account a still-usable token belongs to, without using it (to show the form). */
  async peek(value: string, purpose: AccountTokenPurpose): Promise<string | undefined> {
    if (!TOKEN_PATTERN.test(value)) return undefined;
    const [row] = (await this.dataSource.query(
      `SELECT account_id FROM account_token WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > now()`,
      [hashToken(value), purpose],
    )) as { account_id: string }[];
    return row?.account_id;
  }

  /** Uses the token once (inside the caller's transaction): the account id, or undefined when unknown, used or expired. */
  async consume(manager: EntityManager, value: string, purpose: AccountTokenPurpose): Promise<string | undefined> {
    if (!TOKEN_PATTERN.test(value)) return undefined;
    const [row] = (await manager.query(
      `WITH used AS (
         UPDATE account_token SET used_at = now()
          WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > now() RETURNING account_id
       ) SELECT account_id FROM used`,
      [hashToken(value), purpose],
    )) as { account_id: string }[];
    if (!row) return undefined;
    // Any other link of the same kind still out there stops working too.
    await manager.query(`UPDATE account_token SET used_at = now() WHERE account_id = $1 AND purpose = $2 AND used_at IS NULL`, [
      row.account_id,
      purpose,
    ]);
    return row.account_id;
  }
}

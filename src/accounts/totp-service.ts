/**
 * The staff second factor, stored: the TOTP secret sealed at rest, hashed
 * recovery codes, the last accepted time step. Enrolment is an admin act
 * (CLI); verification serves the sign-in and re-auth screens.
 */
import type { DataSource } from 'typeorm';
import { Account } from './entities/index.js';
import { isStaff } from './sign-in-policy.js';
import { hashRecoveryCode, newRecoveryCodes, newTotpSecret, normaliseRecoveryCode, verifyTotp } from './totp.js';
import type { AccountView } from './account-service.js';

/** What the service needs of the sealer (src/server/secrets), so accounts do not depend on the server. */
export interface SecretSealer {
  seal(plaintext: string): Promise<string>;
  open(sealed: string): Promise<string>;
  needsRewrap(sealed: string): boolean;
}

export class TotpError extends Error {
  override name = 'TotpError';
}

export interface TotpEnrolmentResult {
  secret: string;
  uri: string;
  recoveryCodes: string[];
}

export type SecondFactorCheck = { ok: true; method: 'totp' | 'recovery_code' } | { ok: false };

export class TotpService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly sealer: SecretSealer,
  ) {}

  /** Staff only: customers sign in at storefronts, where no second factor is asked. */
  static assertEligible(account: Pick<AccountView, 'storeId' | 'roles' | 'username'>): void {
    if (account.storeId !== null || !isStaff(account.roles))
      throw new TotpError(`${account.username} is not a staff account (support or admin); only staff enrol a second factor`);
  }

  /** Enrols, or re-enrols (a reset): a new secret and new recovery codes replace any old ones. */
  async enroll(account: Pick<AccountView, 'id' | 'storeId' | 'roles' | 'username'>): Promise<TotpEnrolmentResult> {
    TotpService.assertEligible(account);
    const { secret, uri } = newTotpSecret(account.username);
    const sealed = await this.sealer.seal(secret);
    const recoveryCodes = newRecoveryCodes();
    await this.dataSource.transaction(async (manager) => {
      await manager.update(Account, { id: account.id }, { totpSecretEncrypted: sealed });
      await manager.query(`UPDATE account SET totp_last_step = NULL WHERE id = $1`, [account.id]);
      await manager.query(`DELETE FROM totp_recovery_code WHERE account_id = $1`, [account.id]);
      for (const code of recoveryCodes) {
        await manager.query(`INSERT INTO totp_recovery_code (account_id, code_hash) VALUES ($1, $2)`, [account.id, hashRecoveryCode(code)]);
      }
    });
    return { secret, uri, recoveryCodes };
  }

  /** Removes the second factor; returns false when there was none. */
  async disable(accountId: string): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      const [, affected] = (await manager.query(
        `UPDATE account SET totp_secret_encrypted = NULL, totp_last_step = NULL WHERE id = $1 AND totp_secret_encrypted IS NOT NULL`,
        [accountId],
      )) as [unknown, number];
      await manager.query(`DELETE FROM totp_recovery_code WHERE account_id = $1`, [accountId]);
      return affected > 0;
    });
  }

  /** Re-seals every TOTP secret under the current key-encryption key (`keys rewrap`); returns how many changed. */
  async rewrap(): Promise<number> {
    const rows = (await this.dataSource.query(
      `SELECT id, totp_secret_encrypted AS sealed FROM account WHERE totp_secret_encrypted IS NOT NULL`,
    )) as { id: string; sealed: string }[];
    let changed = 0;
    for (const row of rows) {
      if (!this.sealer.needsRewrap(row.sealed)) continue;
      const sealed = await this.sealer.seal(await this.sealer.open(row.sealed));
      // Conditional: a concurrent re-enrolment wins over this copy of the old secret.
      const [, affected] = (await this.dataSource.query(
        `UPDATE account SET totp_secret_encrypted = $2 WHERE id = $1 AND totp_secret_encrypted = $3`,
        [row.id, sealed, row.sealed],
      )) as [unknown, number];
      changed += affected;
    }
    return changed;
  }

  async isEnrolled(accountId: string): Promise<boolean> {
    const [row] = (await this.dataSource.query(`SELECT totp_secret_encrypted IS NOT NULL AS enrolled FROM account WHERE id = $1`, [
      accountId,
    ])) as { enrolled: boolean }[];
    return row?.enrolled ?? false;
  }

  async remainingRecoveryCodes(accountId: string): Promise<number> {
    const [row] = (await this.dataSource.query(
      `SELECT count(*)::int AS n FROM totp_recovery_code WHERE account_id = $1 AND used_at IS NULL`,
      [accountId],
    )) as { n: number }[];
    return row?.n ?? 0;
  }

  /**
   * A 6-digit code or a recovery code. Each is accepted once: the TOTP step
   * and the recovery code are claimed by a conditional UPDATE, so two
   * requests (even at two instances) cannot both use the same one.
   */
  async verify(accountId: string, input: string, now = new Date()): Promise<SecondFactorCheck> {
    const code = input.trim();
    if (!code || code.length > 64) return { ok: false };
    const [row] = (await this.dataSource.query(
      `SELECT totp_secret_encrypted AS sealed, totp_last_step AS last FROM account WHERE id = $1`,
      [accountId],
    )) as { sealed: string | null; last: string | null }[];
    if (!row?.sealed) return { ok: false };
    if (/^\d{6}$/.test(code.replace(/\s/g, ''))) {
      const step = await verifyTotp(
        await this.sealer.open(row.sealed),
        code.replace(/\s/g, ''),
        row.last === null ? null : Number(row.last),
        now,
      );
      if (step === undefined) return { ok: false };
      const [, claimed] = (await this.dataSource.query(
        `UPDATE account SET totp_last_step = $2 WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)`,
        [accountId, step],
      )) as [unknown, number];
      return claimed > 0 ? { ok: true, method: 'totp' } : { ok: false };
    }
    if (normaliseRecoveryCode(code).length !== 10) return { ok: false };
    const [, used] = (await this.dataSource.query(
      `UPDATE totp_recovery_code SET used_at = $3 WHERE account_id = $1 AND code_hash = $2 AND used_at IS NULL`,
      [accountId, hashRecoveryCode(code), now],
    )) as [unknown, number];
    return used > 0 ? { ok: true, method: 'recovery_code' } : { ok: false };
  }
}

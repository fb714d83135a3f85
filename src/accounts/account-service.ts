/**
 * Accounts: look-up, sign-in with lockout, creation and administration.
 * HTTP-free; the interaction routes, the CLI and the seed all use it.
 */
import { IsNull, type DataSource, type EntityManager } from 'typeorm';
import { Account, AccountRole, PermissionGrant, Store, type AccountStatus, type Permission, type RoleName } from './entities/index.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { accountScopeFor, afterFailedPassword, decideSignIn, isLocked, type ClientAudience, type LockoutPolicy } from './sign-in-policy.js';

export interface AccountView {
  id: string;
  username: string;
  email: string | null;
  displayName: string;
  status: AccountStatus;
  storeId: string | null;
  storeSlug: string | null;
  contactId: string | null;
  roles: RoleName[];
}

export type SignInResult =
  | { ok: true; account: AccountView }
  | { ok: false; reason: 'invalid_credentials' | 'locked' | 'disabled'; accountId?: string; lockedUntil?: Date };

export interface AccountServiceOptions {
  bcryptCost: number;
  lockout: LockoutPolicy;
}

export class AccountError extends Error {
  override name = 'AccountError';
}

export function normaliseUsername(username: string): string {
  return username.trim().toLowerCase();
}

/** PostgreSQL text cannot hold NUL (the query would fail): such a name matches no account. */
function searchable(username: string): boolean {
  return !username.includes('\u0000');
}

export class AccountService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly options: AccountServiceOptions,
  ) {}

  private async view(manager: EntityManager, account: Account): Promise<AccountView> {
    const roles = await manager.find(AccountRole, { where: { accountId: account.id } });
    const store = account.storeId ? await manager.findOneBy(Store, { id: account.storeId }) : null;
    return {
      id: account.id,
      username: account.username,
      email: account.email,
      displayName: account.displayName,
      status: account.status,
      storeId: account.storeId,
      storeSlug: store?.slug ?? null,
      contactId: account.contactId,
      roles: roles.map((role) => role.role).sort(),
    };
  }

  async findById(id: string): Promise<AccountView | undefined> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
    const account = await this.dataSource.manager.findOneBy(Account, { id });
    return account ? this.view(this.dataSource.manager, account) : undefined;
  }

  /** The account with its lock state (for policies that must not act for a locked account). */
  async findLoginState(id: string): Promise<(AccountView & { lockedUntil: Date | null }) | undefined> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
    const account = await this.dataSource.manager.findOneBy(Account, { id });
    return account ? { ...(await this.view(this.dataSource.manager, account)), lockedUntil: account.lockedUntil } : undefined;
  }

  async findByUsername(storeId: string | null, username: string): Promise<AccountView | undefined> {
    if (!searchable(username)) return undefined;
    const account = await this.dataSource.manager.findOneBy(Account, {
      storeId: storeId ?? IsNull(),
      username: normaliseUsername(username),
    });
    return account ? this.view(this.dataSource.manager, account) : undefined;
  }

  /**
   * Password sign-in through a client. Every failure the caller shows the same
   * way (no user enumeration); a locked account is not even checked, so a lock
   * cannot be used as a password oracle.
   */
  async signIn(client: ClientAudience, username: string, password: string, now = new Date()): Promise<SignInResult> {
    const scope = accountScopeFor(client);
    const account = scope && searchable(username)
      ? await this.dataSource
          .getRepository(Account)
          .createQueryBuilder('account')
          .addSelect('account.passwordHash')
          .addSelect('account.totpSecretEncrypted')
          .where('account.username = :username', { username: normaliseUsername(username) })
          .andWhere(scope.storeId ? 'account.store_id = :storeId' : 'account.store_id IS NULL', { storeId: scope.storeId })
          .getOne()
      : null;
    if (!account) {
      await verifyPassword(password, null, this.options.bcryptCost);
      return { ok: false, reason: 'invalid_credentials' };
    }
    const view = await this.view(this.dataSource.manager, account);
    const decision = decideSignIn(client, { ...account, roles: view.roles }, now);
    if (!decision.ok && decision.reason === 'locked') {
      await verifyPassword(password, null, this.options.bcryptCost);
      return { ok: false, reason: 'locked', accountId: account.id };
    }
    const passwordOk = await verifyPassword(password, account.passwordHash, this.options.bcryptCost);
    if (!passwordOk) {
      const lockedUntil = decision.ok || decision.reason !== 'wrong_audience' ? await this.recordFailure(account.id, now) : undefined;
      return { ok: false, reason: 'invalid_credentials', accountId: account.id, ...(lockedUntil ? { lockedUntil } : {}) };
    }
    if (!decision.ok) {
      return { ok: false, reason: decision.reason === 'disabled' ? 'disabled' : 'invalid_credentials', accountId: account.id };
    }
    // With a second factor the sign-in is not over yet: the failure counter keeps
    // counting (wrong codes add to it) until the code is right (secondFactorSucceeded).
    if (!account.totpSecretEncrypted) await this.signedIn(account.id, now);
    return { ok: true, account: view };
  }

  /**
   * A wrong second-factor code after a right password: counted like a wrong
   * password (the same counter and threshold); returns when the account is
   * locked if this failure locked it.
   */
  async secondFactorFailed(accountId: string, now = new Date()): Promise<Date | undefined> {
    return this.recordFailure(accountId, now);
  }

  /** Both factors were right: the sign-in is complete and the failure counter starts again. */
  async secondFactorSucceeded(accountId: string, now = new Date()): Promise<void> {
    await this.signedIn(accountId, now);
  }

  private async signedIn(accountId: string, now: Date): Promise<void> {
    await this.dataSource.manager.update(Account, { id: accountId }, { failedLoginCount: 0, lockedUntil: null, lastLoginAt: now });
  }

  /** Counts a failed password or code; returns when the account is locked if this failure locked it. */
  private async recordFailure(accountId: string, now: Date): Promise<Date | undefined> {
    // Increment in SQL so concurrent failures are all counted.
    const [row] = (await this.dataSource.query(
      `WITH updated AS (
         UPDATE account SET failed_login_count = failed_login_count + 1 WHERE id = $1 RETURNING failed_login_count
       ) SELECT failed_login_count FROM updated`,
      [accountId],
    )) as { failed_login_count: number }[];
    const count = row?.failed_login_count ?? 1;
    const next = afterFailedPassword(count - 1, this.options.lockout, now);
    if (!next.lockedUntil) return undefined;
    await this.dataSource.manager.update(Account, { id: accountId }, { failedLoginCount: 0, lockedUntil: next.lockedUntil });
    return next.lockedUntil;
  }

  isLocked(account: Pick<Account, 'status' | 'lockedUntil'>, now = new Date()): boolean {
    return isLocked(account, now);
  }

  async create(input: {
    username: string;
    displayName: string;
    email?: string | null;
    password?: string | null;
    passwordHash?: string;
    storeId?: string | null;
    contactId?: string | null;
    roles: RoleName[];
    status?: AccountStatus;
  }, manager: EntityManager = this.dataSource.manager): Promise<AccountView> {
    const passwordHash = input.passwordHash ?? (input.password ? await hashPassword(input.password, this.options.bcryptCost) : null);
    const account = manager.create(Account, {
      username: normaliseUsername(input.username),
      email: input.email ?? null,
      displayName: input.displayName,
      passwordHash,
      passwordChangedAt: passwordHash ? new Date() : null,
      storeId: input.storeId ?? null,
      contactId: input.contactId ?? null,
      status: input.status ?? 'active',
    });
    await manager.insert(Account, account);
    if (input.roles.length) await manager.insert(AccountRole, input.roles.map((role) => ({ accountId: account.id, role })));
    return this.view(manager, account);
  }

  async setStatus(id: string, status: AccountStatus): Promise<void> {
    const result = await this.dataSource.manager.update(Account, { id }, { status, ...(status === 'active' ? { lockedUntil: null, failedLoginCount: 0 } : {}) });
    if (!result.affected) throw new AccountError(`no account ${id}`);
  }

  async setPassword(id: string, password: string): Promise<void> {
    const passwordHash = await hashPassword(password, this.options.bcryptCost);
    const result = await this.dataSource.manager.update(Account, { id }, { passwordHash, passwordChangedAt: new Date(), failedLoginCount: 0, lockedUntil: null });
    if (!result.affected) throw new AccountError(`no account ${id}`);
  }

  async grantPermission(accountId: string, permission: Permission, storeId: string | null): Promise<void> {
    await this.dataSource
      .createQueryBuilder()
      .insert()
      .into(PermissionGrant)
      .values({ accountId, permission, storeId })
      .orIgnore()
      .execute();
  }

  async revokePermission(accountId: string, permission: Permission, storeId: string | null): Promise<number> {
    const result = await this.dataSource.manager.delete(PermissionGrant, { accountId, permission, storeId: storeId ?? IsNull() });
    return result.affected ?? 0;
  }

  async permissions(accountId: string): Promise<PermissionGrant[]> {
    return this.dataSource.manager.find(PermissionGrant, { where: { accountId } });
  }
}

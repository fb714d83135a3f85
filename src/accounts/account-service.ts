/**
 * Accounts: look-up, sign-in with lockout, creation and administration.
 * HTTP-free; the interaction routes, the CLI and the seed all use it.
 */
import { IsNull, type DataSource, type EntityManager } from 'typeorm';
import { Account, AccountRole, PermissionGrant, type AccountStatus, type Permission, type RoleName } from './entities/index.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { accountScopeFor, afterFailedPassword, decideSignIn, isLocked, type ClientAudience, type LockoutPolicy } from './sign-in-policy.js';
import { isUuid } from '../common/uuid.js';

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
  | { ok: false; reason: 'invalid_credentials' | 'locked' | 'disabled' | 'staff_at_storefront'; accountId?: string; lockedUntil?: Date };

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

interface AccountRow {
  id: string;
  username: string;
  email: string | null;
  display_name: string;
  status: AccountStatus;
  store_id: string | null;
  contact_id: string | null;
  locked_until: Date | null;
  store_slug: string | null;
  roles: RoleName[];
}

function toView(row: AccountRow): AccountView {
  return {
    id: row.id,
    username: row.username,
    email: row.email,
    displayName: row.display_name,
    status: row.status,
    storeId: row.store_id,
    storeSlug: row.store_slug,
    contactId: row.contact_id,
    roles: row.roles,
  };
}

function withoutLockState({ lockedUntil: _lockedUntil, ...view }: AccountView & { lockedUntil: Date | null }): AccountView {
  return view;
}

/** An account with its store's slug and its roles: what every look-up returns. */
const ACCOUNT_SELECT = `SELECT a.id, a.username, a.email, a.display_name, a.status, a.store_id, a.contact_id, a.locked_until, s.slug AS store_slug,
         COALESCE((SELECT array_agg(r.role ORDER BY r.role) FROM account_role r WHERE r.account_id = a.id), '{}') AS roles
    FROM account a LEFT JOIN store s ON s.id = a.store_id`;

export class AccountService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly options: AccountServiceOptions,
  ) {}

  /**
   * One statement per look-up: the account with its store's slug and its roles.
   * Hot paths (every token exchange looks up two accounts) paid three round
   * trips for this through the entity manager.
   */
  private async load(
    manager: EntityManager,
    condition: string,
    params: unknown[],
  ): Promise<(AccountView & { lockedUntil: Date | null }) | undefined> {
    const [row] = (await manager.query(`${ACCOUNT_SELECT} WHERE ${condition}`, params)) as AccountRow[];
    return row && { ...toView(row), lockedUntil: row.locked_until };
  }

  /**
   * Several accounts with their lock state and permission grants in one
   * statement (a token exchange needs its agent and its customer), by id;
   * ids that are not UUIDs or name no account are simply absent.
   */
  async findWithPermissions(
    ids: string[],
  ): Promise<Map<string, AccountView & { lockedUntil: Date | null; permissions: { permission: Permission; storeId: string | null }[] }>> {
    const wanted = [...new Set(ids.filter((id) => isUuid(id)))];
    const rows = wanted.length
      ? ((await this.dataSource.query(
          `SELECT q.*, COALESCE((SELECT array_agg(p.permission || ':' || COALESCE(p.store_id::text, '*')) FROM permission_grant p WHERE p.account_id = q.id), '{}') AS grants
             FROM (${ACCOUNT_SELECT} WHERE a.id = ANY($1::uuid[])) q`,
          [wanted],
        )) as (AccountRow & { grants: string[] })[])
      : [];
    return new Map(
      rows.map((row) => [
        row.id,
        {
          ...toView(row),
          lockedUntil: row.locked_until,
          permissions: row.grants.map((grant) => {
            const at = grant.lastIndexOf(':');
            const store = grant.slice(at + 1);
            return { permission: grant.slice(0, at) as Permission, storeId: store === '*' ? null : store };
          }),
        },
      ]),
    );
  }

  private async view(manager: EntityManager, account: Account): Promise<AccountView> {
    return withoutLockState((await this.load(manager, 'a.id = $1', [account.id]))!);
  }

  async findById(id: string): Promise<AccountView | undefined> {
    const found = await this.findLoginState(id);
    return found && withoutLockState(found);
  }

  /** The account with its lock state (for policies that must not act for a locked account). */
  async findLoginState(id: string): Promise<(AccountView & { lockedUntil: Date | null }) | undefined> {
    if (!isUuid(id)) return undefined;
    return this.load(this.dataSource.manager, 'a.id = $1', [id]);
  }

  async findByUsername(storeId: string | null, username: string): Promise<AccountView | undefined> {
    if (!searchable(username)) return undefined;
    const found = storeId
      ? await this.load(this.dataSource.manager, 'a.store_id = $1 AND a.username = $2', [storeId, normaliseUsername(username)])
      : await this.load(this.dataSource.manager, 'a.store_id IS NULL AND a.username = $1', [normaliseUsername(username)]);
    return found && withoutLockState(found);
  }

  /**
   * Password sign-in through a client. Every failure the caller shows the same
   * way (no user enumeration); a locked account is not even checked, so a lock
   * cannot be used as a password oracle.
   */
  async signIn(client: ClientAudience, username: string, password: string, now = new Date()): Promise<SignInResult> {
    const scope = accountScopeFor(client);
    const account = scope && searchable(username) ? await this.withSecrets(username, scope.storeId) : null;
    if (!account) {
      if (client.kind === 'storefront' && searchable(username)) return this.staffAtStorefront(username, password, now);
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

  private withSecrets(username: string, storeId: string | null): Promise<Account | null> {
    return this.dataSource
      .getRepository(Account)
      .createQueryBuilder('account')
      .addSelect('account.passwordHash')
      .addSelect('account.totpSecretEncrypted')
      .where('account.username = :username', { username: normaliseUsername(username) })
      .andWhere(storeId ? 'account.store_id = :storeId' : 'account.store_id IS NULL', { storeId })
      .getOne();
  }

  /**
   * No customer of this store has the name: staff typing their own credentials at a store's
   * sign-in are told where staff sign in, but only once their password is right (a wrong one
   * counts toward their lockout, like any guess at it). One bcrypt comparison either way, as
   * for an unknown name, so the answer's timing tells nothing more than its words.
   */
  private async staffAtStorefront(username: string, password: string, now: Date): Promise<SignInResult> {
    const staff = await this.withSecrets(username, null);
    if (!staff || staff.status !== 'active' || isLocked(staff, now)) {
      await verifyPassword(password, null, this.options.bcryptCost);
      return { ok: false, reason: 'invalid_credentials' };
    }
    if (await verifyPassword(password, staff.passwordHash, this.options.bcryptCost))
      return { ok: false, reason: 'staff_at_storefront', accountId: staff.id };
    const lockedUntil = await this.recordFailure(staff.id, now);
    return { ok: false, reason: 'invalid_credentials', accountId: staff.id, ...(lockedUntil ? { lockedUntil } : {}) };
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

  async create(
    input: {
      username: string;
      displayName: string;
      email?: string | null;
      password?: string | null;
      passwordHash?: string;
      storeId?: string | null;
      contactId?: string | null;
      roles: RoleName[];
      status?: AccountStatus;
    },
    manager: EntityManager = this.dataSource.manager,
  ): Promise<AccountView> {
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
    if (input.roles.length)
      await manager.insert(
        AccountRole,
        input.roles.map((role) => ({ accountId: account.id, role })),
      );
    return this.view(manager, account);
  }

  async setStatus(id: string, status: AccountStatus): Promise<void> {
    const result = await this.dataSource.manager.update(
      Account,
      { id },
      { status, ...(status === 'active' ? { lockedUntil: null, failedLoginCount: 0 } : {}) },
    );
    if (!result.affected) throw new AccountError(`no account ${id}`);
  }

  /** Ends a lockout (and forgets the failures that led to it); returns whether the account was locked. */
  async unlock(id: string, now = new Date()): Promise<boolean> {
    const [, affected] = (await this.dataSource.query(
      `UPDATE account SET locked_until = NULL, failed_login_count = 0 WHERE id = $1 AND locked_until IS NOT NULL AND locked_until > $2`,
      [id, now],
    )) as [unknown, number];
    return affected > 0;
  }

  async setPassword(id: string, password: string): Promise<void> {
    const passwordHash = await hashPassword(password, this.options.bcryptCost);
    const result = await this.dataSource.manager.update(
      Account,
      { id },
      { passwordHash, passwordChangedAt: new Date(), failedLoginCount: 0, lockedUntil: null },
    );
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

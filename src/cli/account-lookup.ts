/**
 * Finding the account an operator means (id, or email with an optional store)
 * and describing it without its password hash.
 */
import { randomBytes } from 'node:crypto';
import { AccountError, normaliseUsername, type AccountView } from '../accounts/account-service.js';
import { Account, type RoleName, type Store } from '../accounts/entities/index.js';
import type { Services } from '../server/system.js';
import { CliError } from './errors.js';
import { isUuid } from '../common/uuid.js';

export async function resolveStore(services: Services, slug: string): Promise<Store> {
  const store = await services.stores.findBySlug(slug);
  if (!store) throw new CliError(`unknown store ${slug} (see \`stores list\`)`);
  return store;
}

/**
 * An account id, or an email: in `storeSlug` when given, else the staff
 * account, else the only store account with that email. Several store
 * accounts (one person, several stores) are ambiguous: the operator must say which.
 */
export async function resolveAccount(services: Services, reference: string, storeSlug?: string): Promise<AccountView> {
  if (isUuid(reference)) {
    const account = await services.accounts.findById(reference);
    if (!account) throw new AccountError(`no account ${reference}`);
    return account;
  }
  if (storeSlug) {
    const store = await resolveStore(services, storeSlug);
    const account = await services.accounts.findByUsername(store.id, reference);
    if (!account) throw new AccountError(`no account ${reference} in store ${storeSlug}`);
    return account;
  }
  const staff = await services.accounts.findByUsername(null, reference);
  if (staff) return staff;
  const matches = await services.dataSource
    .getRepository(Account)
    .find({ select: { id: true }, where: { username: normaliseUsername(reference) } });
  if (matches.length === 0) throw new AccountError(`no account ${reference}`);
  const views = await Promise.all(matches.map((match) => services.accounts.findById(match.id)));
  if (views.length > 1) {
    const stores = views
      .map((view) => view?.storeSlug)
      .filter(Boolean)
      .sort();
    throw new CliError(`${reference} is ambiguous: it has accounts in stores ${stores.join(', ')}; pass --store <slug> or the account id`);
  }
  return views[0]!;
}

/** Where an account signs in: staff have no store. */
export function describeHome(account: Pick<AccountView, 'storeSlug'>): string {
  return account.storeSlug ? `store ${account.storeSlug}` : 'staff';
}

/** The sign-in policy's rule, enforced up front: store accounts are customers, staff are support or admin. */
export function checkRolesFit(storeId: string | null, roles: readonly RoleName[]): void {
  if (storeId && roles.some((role) => role !== 'customer')) {
    throw new AccountError('a store account can hold only the customer role; staff (support, admin) accounts have no store');
  }
  if (!storeId && roles.includes('customer'))
    throw new AccountError('the customer role is for store accounts (create one with --store <slug>); staff accounts have no store');
}

/** 18 random bytes: 24 characters, within the password policy and far beyond guessing. */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

export interface AccountDetails extends AccountView {
  hasPassword: boolean;
  locked: boolean;
  lockedUntil: Date | null;
  failedLoginCount: number;
  lastLoginAt: Date | null;
  passwordChangedAt: Date | null;
  createdAt: Date;
  permissions: { permission: string; store: string | null; grantedAt: Date }[];
}

export async function accountDetails(services: Services, view: AccountView): Promise<AccountDetails> {
  const account = await services.dataSource.getRepository(Account).findOneByOrFail({ id: view.id });
  // Only whether a hash exists: the hash itself never leaves the database.
  const [{ has_password: hasPassword }] = (await services.dataSource.query(
    'SELECT password_hash IS NOT NULL AS has_password FROM account WHERE id = $1',
    [view.id],
  )) as [{ has_password: boolean }];
  const stores = new Map((await services.stores.list()).map((store) => [store.id, store.slug]));
  const grants = await services.accounts.permissions(view.id);
  return {
    ...view,
    hasPassword,
    locked: services.accounts.isLocked(account),
    lockedUntil: account.lockedUntil,
    failedLoginCount: account.failedLoginCount,
    lastLoginAt: account.lastLoginAt,
    passwordChangedAt: account.passwordChangedAt,
    createdAt: account.createdAt,
    permissions: grants.map((grant) => ({
      permission: grant.permission,
      store: grant.storeId ? (stores.get(grant.storeId) ?? grant.storeId) : null,
      grantedAt: grant.grantedAt,
    })),
  };
}

/** The `accounts list` query: filtered, ordered (staff first, then by store), limited. */
import { In } from 'typeorm';
import { Account, AccountRole, type RoleName } from '../accounts/entities/index.js';
import type { Services } from '../server/system.js';

export interface AccountRow {
  id: string;
  username: string;
  displayName: string;
  status: string;
  locked: boolean;
  store: string | null;
  roles: RoleName[];
}

export interface AccountListFilter {
  storeId?: string;
  staffOnly?: boolean;
  role?: RoleName;
  limit: number;
}

export async function listAccounts(services: Services, filter: AccountListFilter): Promise<{ rows: AccountRow[]; total: number }> {
  const query = services.dataSource
    .getRepository(Account)
    .createQueryBuilder('account')
    .leftJoin('account.store', 'store')
    .orderBy('store.slug', 'ASC', 'NULLS FIRST')
    .addOrderBy('account.username', 'ASC')
    .limit(filter.limit);
  if (filter.storeId) query.andWhere('account.store_id = :storeId', { storeId: filter.storeId });
  if (filter.staffOnly) query.andWhere('account.store_id IS NULL');
  if (filter.role)
    query.andWhere('EXISTS (SELECT 1 FROM account_role r WHERE r.account_id = account.id AND r.role = :role)', { role: filter.role });
  const [accounts, total] = await query.getManyAndCount();

  const roles = accounts.length
    ? await services.dataSource.getRepository(AccountRole).find({ where: { accountId: In(accounts.map((account) => account.id)) } })
    : [];
  const slugs = new Map((await services.stores.list()).map((store) => [store.id, store.slug]));
  const rows = accounts.map((account) => ({
    id: account.id,
    username: account.username,
    displayName: account.displayName,
    status: account.status,
    locked: services.accounts.isLocked(account),
    store: account.storeId ? (slugs.get(account.storeId) ?? account.storeId) : null,
    roles: roles
      .filter((role) => role.accountId === account.id)
      .map((role) => role.role)
      .sort(),
  }));
  return { rows, total };
}

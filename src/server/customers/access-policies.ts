/**
 * Where the customer's access policy and the store's policy live: on the
 * account and store rows (raw SQL: neither entity needs to know). Changes are
 * audited in the same transaction.
 */
import type { DataSource, EntityManager } from 'typeorm';
import type { AccessPolicy, StoreAccessPolicy } from '../../token-exchange/customer-approval-policy.js';
import { effectiveAccessPolicy } from '../../token-exchange/customer-approval-policy.js';
import type { AuditService } from '../audit-trail/audit-service.js';
import type { AuditEventInput } from '../../audit/index.js';

export interface StorePolicy extends StoreAccessPolicy {
  /** Customers may create their own accounts at the store's sign-in page. */
  selfRegistration: boolean;
}

export interface CustomerPolicy {
  choice: AccessPolicy;
  store: StorePolicy;
  effective: AccessPolicy;
  storeId: string;
}

interface StoreRow {
  allow_never: boolean;
  require_approval: boolean;
  self_registration: boolean;
}

const storePolicy = (row: StoreRow): StorePolicy => ({
  allowNever: row.allow_never,
  requireApproval: row.require_approval,
  selfRegistration: row.self_registration,
});

export class AccessPolicies {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  async forCustomer(accountId: string, manager: EntityManager = this.dataSource.manager): Promise<CustomerPolicy | undefined> {
    const [row] = (await manager.query(
      `SELECT a.access_policy, s.id AS store_id, s.allow_never, s.require_approval, s.self_registration
         FROM account a JOIN store s ON s.id = a.store_id WHERE a.id = $1`,
      [accountId],
    )) as (StoreRow & { access_policy: AccessPolicy; store_id: string })[];
    if (!row) return undefined;
    const store = storePolicy(row);
    return { choice: row.access_policy, store, effective: effectiveAccessPolicy(row.access_policy, store), storeId: row.store_id };
  }

  async setCustomerChoice(accountId: string, choice: AccessPolicy, event: Omit<AuditEventInput, 'type' | 'details'>): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const [before] = (await manager.query(`SELECT access_policy FROM account WHERE id = $1 FOR UPDATE`, [accountId])) as {
        access_policy: AccessPolicy;
      }[];
      await manager.query(`UPDATE account SET access_policy = $2 WHERE id = $1`, [accountId, choice]);
      await this.audit.record(
        { ...event, type: 'account.access_policy.changed', details: { from: before?.access_policy ?? null, to: choice } },
        manager,
      );
    });
  }

  async forStore(storeId: string): Promise<StorePolicy | undefined> {
    const [row] = (await this.dataSource.query(`SELECT allow_never, require_approval, self_registration FROM store WHERE id = $1`, [
      storeId,
    ])) as StoreRow[];
    return row && storePolicy(row);
  }

  /** Changes the store's policy (admin API, CLI); `event` is the admin record, written with the change. */
  async setStorePolicy(storeId: string, change: Partial<StorePolicy>, event: Omit<AuditEventInput, 'details'>): Promise<StorePolicy> {
    return this.dataSource.transaction(async (manager) => {
      const [current] = (await manager.query(
        `SELECT allow_never, require_approval, self_registration FROM store WHERE id = $1 FOR UPDATE`,
        [storeId],
      )) as StoreRow[];
      if (!current) throw new Error(`no store ${storeId}`);
      const next = { ...storePolicy(current), ...change };
      await manager.query(`UPDATE store SET allow_never = $2, require_approval = $3, self_registration = $4 WHERE id = $1`, [
        storeId,
        next.allowNever,
        next.requireApproval,
        next.selfRegistration,
      ]);
      await this.audit.record(
        {
          ...event,
          details: {
            store_id: storeId,
            allow_never: next.allowNever,
            require_approval: next.requireApproval,
            self_registration: next.selfRegistration,
          },
        },
        manager,
      );
      return next;
    });
  }
}

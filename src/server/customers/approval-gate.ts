/**
 * The re-authentication screen's view of the customer's say (ApprovalGate):
 * the policy within the store's, standing approvals, and asking the customer
 * (the mail links into the store's own account pages, where the customer is
 * signed in as themselves).
 */
import type { AccountService } from '../../accounts/account-service.js';
import type { StoreService } from '../../accounts/store-service.js';
import type { ApprovalGate } from '../interactions/reauth-approval.js';
import type { AccessPolicies } from './access-policies.js';
import type { Approvals } from './approvals.js';

/** Where the customer answers a request: the store's account pages (`{id}` is the request). */
export const storeApprovalLink = (baseUrl: string) => `${baseUrl.replace(/\/+$/, '')}/account/approvals/{id}`;

export function approvalGate(deps: {
  approvals: Approvals;
  policies: AccessPolicies;
  accounts: AccountService;
  stores: StoreService;
}): ApprovalGate {
  return {
    async notice(customerId) {
      const policy = await deps.policies.forCustomer(customerId);
      if (!policy) return 'never';
      return policy.effective === 'without_asking' ? undefined : policy.effective;
    },

    async decide(who) {
      const policy = await deps.policies.forCustomer(who.customerId);
      if (!policy || policy.effective === 'never') return { kind: 'refuse' };
      if (policy.effective === 'without_asking') return { kind: 'proceed' };
      const standing = await deps.approvals.standing(who);
      return standing ? { kind: 'proceed', approvalId: standing.id } : { kind: 'ask' };
    },

    async request(input, meta) {
      const [customer, agent, store] = await Promise.all([
        deps.accounts.findById(input.customerId),
        deps.accounts.findById(input.agentId),
        deps.stores.findById(input.storeId),
      ]);
      return deps.approvals.request(
        input,
        {
          to: customer?.email ?? null,
          name: customer?.displayName ?? 'customer',
          agentName: agent?.displayName ?? 'A support agent',
          storeName: store?.name ?? 'the store',
          link: store?.baseUrl ? storeApprovalLink(store.baseUrl) : null,
        },
        meta,
      );
    },

    forInteraction: (uid) => deps.approvals.forInteraction(uid),
  };
}

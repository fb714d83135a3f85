/** Agents and customers, as the impersonation policy needs them. */
import type { AccountService } from '../../accounts/account-service.js';
import type { AccountDirectory } from '../../token-exchange/ports.js';
import { LOGIN_ON_BEHALF } from '../../token-exchange/impersonation-policy.js';

export function accountDirectory(accounts: AccountService): AccountDirectory {
  return {
    async agent(id) {
      // Independent look-ups: in parallel, so an exchange waits for one round trip, not two.
      const [account, grants] = await Promise.all([accounts.findById(id), accounts.permissions(id)]);
      if (!account) return undefined;
      return {
        id: account.id,
        status: account.status,
        storeId: account.storeId,
        roles: account.roles,
        displayName: account.displayName,
        loginOnBehalfStores: grants.filter((grant) => grant.permission === LOGIN_ON_BEHALF).map((grant) => grant.storeId),
      };
    },
    async target(id) {
      const account = await accounts.findLoginState(id);
      if (!account) return undefined;
      return { id: account.id, status: account.status, storeId: account.storeId, roles: account.roles, lockedUntil: account.lockedUntil, displayName: account.displayName, email: account.email };
    },
  };
}

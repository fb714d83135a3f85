/** Agents and customers, as the on-behalf policy needs them. */
import type { AccountService } from '../../accounts/account-service.js';
import type { AccountDirectory, AgentAccount, TargetAccount } from '../../token-exchange/ports.js';
import { LOGIN_ON_BEHALF } from '../../token-exchange/on-behalf-policy.js';

type Found = Awaited<ReturnType<AccountService['findWithPermissions']>> extends Map<string, infer V> ? V : never;

function asAgent(account: Found | undefined): AgentAccount | undefined {
  if (!account) return undefined;
  return {
    id: account.id,
    status: account.status,
    storeId: account.storeId,
    roles: account.roles,
    displayName: account.displayName,
    loginOnBehalfStores: account.permissions.filter((grant) => grant.permission === LOGIN_ON_BEHALF).map((grant) => grant.storeId),
  };
}

function asTarget(account: Found | undefined): TargetAccount | undefined {
  if (!account) return undefined;
  return {
    id: account.id,
    status: account.status,
    storeId: account.storeId,
    roles: account.roles,
    displayName: account.displayName,
    email: account.email,
  };
}

export function accountDirectory(accounts: AccountService): AccountDirectory {
  return {
    async agent(id) {
      return asAgent((await accounts.findWithPermissions([id])).get(id));
    },
    async target(id) {
      return asTarget((await accounts.findWithPermissions([id])).get(id));
    },
    async pair(agentId, targetId) {
      const found = await accounts.findWithPermissions([agentId, targetId]);
      return { agent: asAgent(found.get(agentId)), target: asTarget(found.get(targetId)) };
    },
  };
}

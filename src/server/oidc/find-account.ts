/** oidc-provider's `findAccount`: the account behind a `sub`, and its claims. */
import type { Account as OidcAccount, FindAccount } from 'oidc-provider';
import type { AccountService } from '../../accounts/account-service.js';

export function createFindAccount(accounts: AccountService): FindAccount {
  return async (_ctx, sub): Promise<OidcAccount | undefined> => {
    const account = await accounts.findById(sub);
    // A disabled account's sessions, refresh tokens and userinfo stop working.
    if (!account || account.status === 'disabled') return undefined;
    return {
      accountId: account.id,
      async claims() {
        return {
          sub: account.id,
          name: account.displayName,
          preferred_username: account.username,
          ...(account.email ? { email: account.email } : {}),
          ...(account.storeSlug ? { store: account.storeSlug } : {}),
        };
      },
    };
  };
}

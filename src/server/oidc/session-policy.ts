/** Whether a browser session's account may be used as-is by the requesting client. */
import type { AccountService } from '../../accounts/account-service.js';
import type { StoreService } from '../../accounts/store-service.js';
import { decideSignIn, type ClientAudience } from '../../accounts/sign-in-policy.js';
import type { BehalfClientView } from './client-metadata.js';

export async function clientAudience(
  stores: StoreService,
  view: Pick<BehalfClientView, 'kind' | 'store'>,
): Promise<ClientAudience | undefined> {
  if (view.kind === 'storefront') {
    const store = view.store ? await stores.findBySlug(view.store) : undefined;
    return store ? { kind: 'storefront', storeId: store.id } : undefined;
  }
  return { kind: view.kind };
}

export async function clientMayUseSession(
  deps: { accounts: AccountService; stores: StoreService },
  client: Pick<BehalfClientView, 'kind' | 'store'>,
  accountId: string,
): Promise<boolean> {
  const audience = await clientAudience(deps.stores, client);
  const account = await deps.accounts.findById(accountId);
  if (!audience || !account) return false;
  return decideSignIn(audience, { ...account, lockedUntil: null }, new Date()).ok;
}

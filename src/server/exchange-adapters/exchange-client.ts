/** The requesting client as the token-exchange policy sees it. */
import type { StoreService } from '../../accounts/store-service.js';
import type { ExchangeClient } from '../../token-exchange/ports.js';
import type { BehalfClientView } from '../oidc/client-metadata.js';

export async function exchangeClient(stores: StoreService, view: BehalfClientView): Promise<ExchangeClient> {
  const store = view.kind === 'storefront' && view.store ? await stores.findBySlugRecent(view.store) : undefined;
  return {
    clientId: view.clientId,
    storeId: store?.id ?? null,
    onBehalf: view.onBehalf,
    delegation: view.delegation.map((rule) => ({ from: rule.from, to: rule.to, scope: rule.scope?.split(' ').filter(Boolean) })),
    operates: view.resourceServers,
    ...(view.defaultResource ? { defaultResource: view.defaultResource } : {}),
    senderConstraint: view.senderConstraint,
  };
}

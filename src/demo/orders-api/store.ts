/**
 * Which store a request is about. A storefront's token says it: its
 * `client_id` is `storefront-<store>` (for on-behalf tokens too, since the
 * storefront performed the exchange). Other clients name it with `?store=`.
 */
import type { Context } from 'koa';
import type { Principal } from '../../resource-server/index.js';
import { STORES, type StoreSlug } from './entities.js';
import { badRequest } from './http.js';
import { queryParam } from './validation.js';

const isStore = (value: string): value is StoreSlug => (STORES as readonly string[]).includes(value);

export function storeOf(ctx: Context, principal: Principal): StoreSlug {
  const fromClient = /^storefront-(.+)$/.exec(principal.clientId)?.[1];
  const fromQuery = queryParam(ctx, 'store');
  if (fromQuery !== undefined && !isStore(fromQuery)) throw badRequest(`store must be one of ${STORES.join(', ')}`);
  if (fromClient && isStore(fromClient)) {
    if (fromQuery && fromQuery !== fromClient) throw badRequest(`this token belongs to the ${fromClient} store, not ${fromQuery}`);
    return fromClient;
  }
  if (!fromQuery) throw badRequest(`which store? pass ?store=${STORES.join('|')}`);
  return fromQuery;
}

/** The authenticated caller (requireAuth put it there). */
export function principalOf(ctx: Context): Principal {
  const principal = ctx.state.principal;
  if (!principal) throw new Error('route is missing requireAuth');
  return principal;
}

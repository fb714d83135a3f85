/**
 * The shop itself, all through the orders API as the signed-in user (the
 * customer, or the agent acting as him): catalogue, cart, checkout, orders
 * and the demo payment step.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { callOrders, requireUser } from '../access.js';
import type { StoreDeps } from '../deps.js';
import { badRequest, formField, isUuid, notFound, seeOther } from '../http.js';
import type { Cart, Order, Product } from '../orders-api.js';

const money = (cents: number) => (cents / 100).toFixed(2);

/** The agent's display name for "placed by support agent … on your behalf", when it is known. */
export type AgentNames = Map<string, string>;

function orderPath(deps: StoreDeps, id: string): string {
  return `/${deps.store.slug}/orders/${id}`;
}

function pathId(ctx: Context, what: string): string {
  const id = (ctx as Context & { params: Record<string, string | undefined> }).params.id;
  if (!isUuid(id)) throw notFound(what);
  return id;
}

export function shopRoutes(deps: StoreDeps, agentNames: (ctx: Context, orders: Order[]) => Promise<AgentNames>): Router {
  const router = new Router();
  const base = `/${deps.store.slug}`;

  router.get('/', async (ctx) => {
    const session = ctx.state.session;
    if (!session?.user) return deps.render.storePage(ctx, deps.store, session, 'welcome', { title: 'Welcome' });
    const { products } = await callOrders<{ products: Product[] }>(ctx, deps, 'GET', '/products');
    deps.render.storePage(ctx, deps.store, ctx.state.session, 'catalog', { title: 'Catalogue', products });
  });

  router.post('/cart/items', async (ctx) => {
    const productId = formField(ctx.request.body, 'productId', { required: true });
    const quantityText = formField(ctx.request.body, 'quantity') || '1';
    // Checked here too, so a tampered form gets a clear sentence rather than the API's field names.
    if (!isUuid(productId)) throw badRequest('That product is not in the catalogue.');
    const quantity = /^\d{1,2}$/.test(quantityText) ? Number(quantityText) : 0;
    if (quantity < 1 || quantity > 99) throw badRequest('The quantity must be a whole number from 1 to 99.');
    const item = await callOrders<{ product: Product }>(ctx, deps, 'POST', '/cart/items', { productId, quantity });
    requireUser(ctx, deps).session.flash = { kind: 'info', text: `Added ${quantity} × ${item.product.name} to the cart.` };
    seeOther(ctx, `${base}/cart`);
  });

  router.get('/cart', async (ctx) => {
    const cart = await callOrders<Cart>(ctx, deps, 'GET', '/cart');
    deps.render.storePage(ctx, deps.store, ctx.state.session, 'cart', { title: 'Cart', cart });
  });

  router.post('/cart/items/:id/remove', async (ctx) => {
    const id = pathId(ctx, 'cart item');
    await callOrders(ctx, deps, 'DELETE', `/cart/items/${id}`);
    requireUser(ctx, deps).session.flash = { kind: 'info', text: 'Removed from the cart.' };
    seeOther(ctx, `${base}/cart`);
  });

  router.post('/checkout', async (ctx) => {
    const order = await callOrders<Order>(ctx, deps, 'POST', '/orders');
    requireUser(ctx, deps).session.flash = { kind: 'info', text: `Order placed: ${order.total} ${order.currency}. Pay for it below.` };
    seeOther(ctx, orderPath(deps, order.id));
  });

  router.get('/orders', async (ctx) => {
    const { orders } = await callOrders<{ orders: Order[] }>(ctx, deps, 'GET', '/orders');
    const names = await agentNames(ctx, orders);
    deps.render.storePage(ctx, deps.store, ctx.state.session, 'orders', { title: 'My orders', orders, names });
  });

  router.get('/orders/:id', async (ctx) => {
    const id = pathId(ctx, 'order');
    const order = await callOrders<Order>(ctx, deps, 'GET', `/orders/${id}`);
    const names = await agentNames(ctx, [order]);
    const outstanding = order.totalCents - order.paidCents;
    deps.render.storePage(ctx, deps.store, ctx.state.session, 'order', {
      title: `Order ${order.id.slice(0, 8)}`,
      order,
      names,
      outstanding: outstanding > 0 ? money(outstanding) : undefined,
    });
  });

  // The demo payment step: pays what is outstanding with the demo card; the orders API records the payment.
  router.post('/orders/:id/pay', async (ctx) => {
    const id = pathId(ctx, 'order');
    const order = await callOrders<Order>(ctx, deps, 'GET', `/orders/${id}`);
    const outstanding = order.totalCents - order.paidCents;
    const session = requireUser(ctx, deps).session;
    if (outstanding <= 0) {
      session.flash = { kind: 'info', text: 'This order is already paid.' };
      return seeOther(ctx, orderPath(deps, id));
    }
    await callOrders(ctx, deps, 'POST', `/orders/${id}/payments`, { method: 'demo-card', amount: money(outstanding) });
    session.flash = { kind: 'info', text: `Payment of ${money(outstanding)} ${order.currency} recorded. Thank you!` };
    seeOther(ctx, orderPath(deps, id));
  });

  return router;
}

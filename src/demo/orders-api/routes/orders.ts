/**
 * Orders: placing one from the cart, reading them, and recording demo
 * payments. Ownership is `owner_id = sub`; an order someone else owns is
 * "not found" (never "forbidden": that would confirm it exists).
 */
import Router from '@koa/router';
import type { EntityManager } from 'typeorm';
import { CartItem, Order, OrderLine, Payment } from '../entities.js';
import { badRequest, HttpError, notFound } from '../http.js';
import { principalOf, storeOf } from '../store.js';
import { parseBody, pathId, paymentBody, queryInt } from '../validation.js';
import { money, orderView, paymentView } from '../views.js';
import { cartLines } from './cart.js';
import type { RouteDeps } from './deps.js';

async function findOrder(manager: EntityManager, id: string, ownerId: string, lock = false): Promise<Order> {
  const order = await manager
    .getRepository(Order)
    .findOne({ where: { id, ownerId }, ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}) });
  if (!order) throw notFound('order');
  return order;
}

async function withDetails(manager: EntityManager, order: Order): Promise<Order> {
  order.lines = await manager.getRepository(OrderLine).find({ where: { orderId: order.id }, order: { createdAt: 'ASC', id: 'ASC' } });
  order.payments = await manager.getRepository(Payment).find({ where: { orderId: order.id }, order: { createdAt: 'ASC', id: 'ASC' } });
  return order;
}

export function orderRoutes({ dataSource, auth }: RouteDeps): Router {
  const router = new Router();

  router.post('/orders', auth('orders:write'), async (ctx) => {
    const principal = principalOf(ctx);
    const store = storeOf(ctx, principal);
    const order = await dataSource.transaction(async (manager) => {
      // Locking the cart rows makes a double click place one order, not two.
      const lines = await cartLines(manager, principal.subject, store, true);
      if (!lines.length) throw badRequest('the cart is empty: add products with POST /cart/items first');
      const total = lines.reduce((sum, line) => sum + line.product.priceCents * line.quantity, 0);
      const orders = manager.getRepository(Order);
      const placed = await orders.save(
        orders.create({ ownerId: principal.subject, store, status: 'placed', totalCents: total, paidCents: 0, currency: 'USD' }),
      );
      const orderLines = manager.getRepository(OrderLine);
      placed.lines = await orderLines.save(
        lines.map((line) =>
          orderLines.create({
            orderId: placed.id,
            productId: line.product.id,
            sku: line.product.sku,
            name: line.product.name,
            unitPriceCents: line.product.priceCents,
            quantity: line.quantity,
          }),
        ),
      );
      await manager.getRepository(CartItem).remove(lines);
      placed.payments = [];
      return placed;
    });
    ctx.status = 201;
    ctx.set('Location', `/orders/${order.id}`);
    ctx.body = orderView(order);
  });

  router.get('/orders', auth('orders:read'), async (ctx) => {
    const principal = principalOf(ctx);
    const limit = queryInt(ctx, 'limit', 1, 100) ?? 50;
    const orders = await dataSource
      .getRepository(Order)
      .find({ where: { ownerId: principal.subject }, order: { createdAt: 'DESC', id: 'DESC' }, take: limit });
    ctx.body = { orders: orders.map(orderView) };
  });

  router.get('/orders/:id', auth('orders:read'), async (ctx) => {
    const principal = principalOf(ctx);
    const id = pathId(ctx, 'order');
    ctx.body = orderView(await withDetails(dataSource.manager, await findOrder(dataSource.manager, id, principal.subject)));
  });

  router.post('/orders/:id/payments', auth('orders:write'), async (ctx) => {
    const principal = principalOf(ctx);
    const id = pathId(ctx, 'order');
    const { method, amount } = parseBody(ctx, paymentBody);
    const payment = await dataSource.transaction(async (manager) => {
      // The row lock keeps two concurrent payments from overpaying the order.
      const order = await findOrder(manager, id, principal.subject, true);
      const outstanding = order.totalCents - order.paidCents;
      if (outstanding === 0) throw new HttpError(409, 'already_paid', 'this order is already paid');
      if (amount > outstanding) throw badRequest(`amount must not exceed the outstanding ${money(outstanding)} ${order.currency}`);
      const payments = manager.getRepository(Payment);
      const saved = await payments.save(
        payments.create({
          orderId: order.id,
          ownerId: principal.subject,
          method,
          amountCents: amount,
          currency: order.currency,
          status: 'captured',
        }),
      );
      order.paidCents += amount;
      if (order.paidCents === order.totalCents) order.status = 'paid';
      await manager.getRepository(Order).save(order);
      return { saved, order };
    });
    ctx.status = 201;
    ctx.body = { payment: paymentView(payment.saved), order: orderView(payment.order) };
  });

  return router;
}

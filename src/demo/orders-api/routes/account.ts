/**
 * The customer's own account: saved payment methods (never changed on
 * behalf: the kit's guard refuses it) and the activity log, which answers
 * "what was done on my account, and by whom".
 */
import Router from '@koa/router';
import { forbidOnBehalf } from '../../../resource-server/index.js';
import { PaymentMethod } from '../entities.js';
import { principalOf } from '../store.js';
import { parseBody, paymentMethodsBody, queryCursor, queryInt } from '../validation.js';
import { activityView, paymentMethodView } from '../views.js';
import { summariseActivity } from '../activity-summary.js';
import type { RouteDeps } from './deps.js';

export function accountRoutes({ dataSource, audit, auth }: RouteDeps): Router {
  const router = new Router();

  router.get('/payment-methods', auth('orders:read'), async (ctx) => {
    const principal = principalOf(ctx);
    const methods = await dataSource
      .getRepository(PaymentMethod)
      .find({ where: { ownerId: principal.subject }, order: { createdAt: 'ASC', id: 'ASC' } });
    ctx.body = { methods: methods.map(paymentMethodView) };
  });

  router.put('/payment-methods', auth('orders:write'), forbidOnBehalf('changing payment methods'), async (ctx) => {
    const principal = principalOf(ctx);
    const { methods } = parseBody(ctx, paymentMethodsBody);
    const saved = await dataSource.transaction(async (manager) => {
      const repository = manager.getRepository(PaymentMethod);
      // Replace the whole list: each removal and addition is its own audited event.
      const current = await repository.find({ where: { ownerId: principal.subject }, lock: { mode: 'pessimistic_write' } });
      if (current.length) await repository.remove(current);
      const fresh = methods.map((method, index) =>
        repository.create({
          ownerId: principal.subject,
          ...method,
          isDefault: method.isDefault ?? (index === 0 && !methods.some((m) => m.isDefault)),
        }),
      );
      return fresh.length ? repository.save(fresh) : [];
    });
    ctx.body = { methods: saved.map(paymentMethodView) };
  });

  router.get('/me/activity', auth('orders:read'), async (ctx) => {
    const principal = principalOf(ctx);
    const before = queryCursor(ctx, 'before');
    const limit = queryInt(ctx, 'limit', 1, 100) ?? 20;
    const page = await audit.query({ subject: principal.subject, type: 'resource.*', limit, ...(before !== undefined ? { before } : {}) });
    const summaries = await summariseActivity(dataSource, page.events);
    const events = page.events.map((event) => ({
      ...activityView(event),
      ...(summaries.has(event.id) ? { summary: summaries.get(event.id) } : {}),
    }));
    ctx.body = { events, ...(page.nextBefore !== undefined ? { nextBefore: page.nextBefore } : {}) };
  });

  return router;
}

/**
 * Admin API for the customers' say (admin role only, like session-routes.ts):
 * - GET /admin/reports — "this wasn't me" reports, newest first, with names (`store` slug filter, `limit`);
 * - GET/PUT /admin/stores/:slug/access-policy — may customers say "never", must every customer be asked,
 *   may customers register themselves. Every change is audited (`admin.store.access_policy_changed`).
 */
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context } from 'koa';
import type { AccountService } from '../../accounts/account-service.js';
import type { StoreService } from '../../accounts/store-service.js';
import { requestMeta } from '../audit-trail/request-meta.js';
import type { AccessPolicies, StorePolicy } from '../customers/access-policies.js';
import { reportJson, type Reports } from '../customers/reports.js';
import type { OidcPort } from '../oidc/port.js';
import { requireStaffToken } from './bearer-auth.js';

function bad(ctx: Context, description: string, status = 400, error = 'invalid_request'): void {
  ctx.status = status;
  ctx.body = { error, error_description: description };
}

const policyJson = (policy: StorePolicy) => ({
  allow_never: policy.allowNever,
  require_approval: policy.requireApproval,
  self_registration: policy.selfRegistration,
});

export function reportAdminRoutes(deps: {
  oidc: OidcPort;
  accounts: AccountService;
  stores: StoreService;
  reports: Reports;
  policies: AccessPolicies;
  maxBodyBytes: number;
}): Router {
  const router = new Router({ prefix: '/admin' });
  router.use(['/reports', '/stores'], requireStaffToken(deps.oidc, deps.accounts, 'admin'));
  router.use(['/reports', '/stores'], async (ctx, next) => {
    ctx.set('Cache-Control', 'no-store');
    await next();
  });

  router.get('/reports', async (ctx) => {
    const { store, limit } = ctx.query;
    if (limit !== undefined && (typeof limit !== 'string' || !/^\d{1,3}$/.test(limit) || Number(limit) < 1 || Number(limit) > 500))
      return bad(ctx, 'limit must be a whole number from 1 to 500');
    let storeId: string | undefined;
    if (store !== undefined) {
      const found = typeof store === 'string' ? await deps.stores.findBySlug(store) : undefined;
      if (!found) return bad(ctx, 'store must be the slug of a store');
      storeId = found.id;
    }
    const reports = await deps.reports.list({ storeId, limit: limit ? Number(limit) : undefined });
    ctx.body = { reports: reports.map(reportJson) };
  });

  router.get('/stores/:slug/access-policy', async (ctx) => {
    const store = await deps.stores.findBySlug(ctx.params.slug!);
    if (!store) return bad(ctx, 'no such store', 404, 'not_found');
    ctx.body = { store: store.slug, ...policyJson((await deps.policies.forStore(store.id))!) };
  });

  router.put('/stores/:slug/access-policy', bodyParser({ enableTypes: ['json'], jsonLimit: `${deps.maxBodyBytes}b` }), async (ctx) => {
    const store = await deps.stores.findBySlug(ctx.params.slug!);
    if (!store) return bad(ctx, 'no such store', 404, 'not_found');
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    const change: Partial<StorePolicy> = {};
    const names = { allow_never: 'allowNever', require_approval: 'requireApproval', self_registration: 'selfRegistration' } as const;
    for (const key of Object.keys(body)) if (!(key in names)) return bad(ctx, `unknown field ${key}`);
    for (const [key, name] of Object.entries(names)) {
      if (body[key] === undefined) continue;
      if (typeof body[key] !== 'boolean') return bad(ctx, `${key} must be true or false`);
      change[name] = body[key];
    }
    if (!Object.keys(change).length) return bad(ctx, 'give at least one of allow_never, require_approval, self_registration');
    const admin = ctx.state.staff!;
    const policy = await deps.policies.setStorePolicy(store.id, change, {
      type: 'admin.store.access_policy_changed',
      actor: admin.account.id,
      subject: null,
      clientId: admin.clientId,
      ...requestMeta(ctx),
    });
    ctx.body = { store: store.slug, ...policyJson(policy) };
  });

  return router;
}

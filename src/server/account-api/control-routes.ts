/**
 * The customer in control of login on behalf, through their own token
 * (never one used on their behalf: requireCustomerToken refuses those):
 * - GET/PUT /account/access-policy — "support may act for me: without asking / only after I approve / never",
 *   within the store's policy;
 * - GET /account/approval-requests, GET …/:id, POST …/:id/approve (`duration`: session, 24h, 7d), POST …/:id/deny;
 * - POST /account/on-behalf-sessions/:id/report — "this wasn't me / I didn't ask for this".
 */
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context } from 'koa';
import type { AccountService } from '../../accounts/account-service.js';
import { isAccessPolicy, isApprovalDuration, refusedChoice, ACCESS_POLICIES } from '../../token-exchange/customer-approval-policy.js';
import { requestMeta } from '../audit-trail/request-meta.js';
import { requireCustomerToken } from '../admin/bearer-auth.js';
import type { OidcPort } from '../oidc/port.js';
import type { AccessPolicies } from '../customers/access-policies.js';
import type { ApprovalView, Approvals } from '../customers/approvals.js';
import { reportJson, type Reports } from '../customers/reports.js';

export interface ControlRoutesDeps {
  oidc: OidcPort;
  accounts: AccountService;
  policies: AccessPolicies;
  approvals: Approvals;
  reports: Reports;
  maxBodyBytes: number;
}

function bad(ctx: Context, description: string, status = 400, error = 'invalid_request'): void {
  ctx.status = status;
  ctx.body = { error, error_description: description };
}

export function controlRoutes(deps: ControlRoutesDeps): Router {
  const router = new Router({ prefix: '/account' });
  router.use(requireCustomerToken(deps.oidc, deps.accounts));
  router.use(async (ctx, next) => {
    ctx.set('Cache-Control', 'no-store');
    await next();
  });
  const body = bodyParser({ enableTypes: ['form', 'json'], formLimit: `${deps.maxBodyBytes}b`, jsonLimit: `${deps.maxBodyBytes}b` });
  const field = (ctx: Context, name: string): unknown => ((ctx.request.body ?? {}) as Record<string, unknown>)[name];

  async function policyJson(accountId: string) {
    const policy = await deps.policies.forCustomer(accountId);
    if (!policy) return undefined;
    return {
      policy: policy.choice,
      effective: policy.effective,
      store: { allow_never: policy.store.allowNever, require_approval: policy.store.requireApproval },
      choices: ACCESS_POLICIES.map((choice) => ({ value: choice, allowed: !refusedChoice(choice, policy.store) })),
    };
  }

  router.get('/access-policy', async (ctx) => {
    const json = await policyJson(ctx.state.customer!.account.id);
    if (!json) return bad(ctx, 'this account has no store', 404, 'not_found');
    ctx.body = json;
  });

  router.put('/access-policy', body, async (ctx) => {
    const customer = ctx.state.customer!;
    const choice = field(ctx, 'policy');
    if (!isAccessPolicy(choice)) return bad(ctx, `policy must be one of ${ACCESS_POLICIES.join(', ')}`);
    const current = await deps.policies.forCustomer(customer.account.id);
    if (!current) return bad(ctx, 'this account has no store', 404, 'not_found');
    const refused = refusedChoice(choice, current.store);
    if (refused) return bad(ctx, refused, 409, 'not_allowed_by_store');
    await deps.policies.setCustomerChoice(customer.account.id, choice, {
      actor: customer.account.id,
      subject: customer.account.id,
      clientId: customer.clientId,
      ...requestMeta(ctx),
    });
    ctx.body = await policyJson(customer.account.id);
  });

  async function approvalJson(approval: ApprovalView) {
    const agent = await deps.accounts.findById(approval.agentId);
    const client = await deps.oidc.findClient(approval.clientId);
    return {
      id: approval.id,
      status: approval.status,
      agent: { id: approval.agentId, name: agent?.displayName ?? 'a former support agent' },
      client: { id: approval.clientId, name: client?.name ?? approval.clientId },
      reason: approval.reason,
      ticket: approval.ticket,
      requested_at: approval.requestedAt.toISOString(),
      expires_at: approval.expiresAt.toISOString(),
      decided_at: approval.decidedAt?.toISOString() ?? null,
      approved_for: approval.approvedFor,
      valid_until: approval.validUntil?.toISOString() ?? null,
    };
  }

  router.get('/approval-requests', async (ctx) => {
    const list = await deps.approvals.listForCustomer(ctx.state.customer!.account.id);
    ctx.body = { requests: await Promise.all(list.map(approvalJson)) };
  });

  async function own(ctx: Context): Promise<ApprovalView | undefined> {
    const found = await deps.approvals.find(ctx.params.id!);
    // Another customer's request looks exactly like a missing one.
    if (!found || found.customerId !== ctx.state.customer!.account.id) {
      bad(ctx, 'no such approval request on your account', 404, 'not_found');
      return undefined;
    }
    if (found.status === 'pending' && found.expiresAt <= new Date()) {
      await deps.approvals.expireDue();
      return deps.approvals.find(found.id);
    }
    return found;
  }

  router.get('/approval-requests/:id', async (ctx) => {
    const found = await own(ctx);
    if (found) ctx.body = await approvalJson(found);
  });

  for (const answer of ['approve', 'deny'] as const) {
    router.post(`/approval-requests/:id/${answer}`, body, async (ctx) => {
      const duration = field(ctx, 'duration') ?? 'session';
      if (answer === 'approve' && !isApprovalDuration(duration)) return bad(ctx, 'duration must be session, 24h or 7d');
      const found = await own(ctx);
      if (!found) return;
      const customer = ctx.state.customer!;
      const decided = await deps.approvals.decide(
        found.id,
        customer.account.id,
        answer === 'approve' ? { approve: true, duration: duration as 'session' | '24h' | '7d' } : { approve: false },
        { clientId: customer.clientId, ...requestMeta(ctx) },
      );
      if (!decided) {
        const now = await deps.approvals.find(found.id);
        return bad(ctx, `this request is ${now?.status ?? 'gone'} and can no longer be answered`, 409, 'already_decided');
      }
      ctx.body = await approvalJson(decided);
    });
  }

  router.post('/on-behalf-sessions/:id/report', body, async (ctx) => {
    const comment = field(ctx, 'comment');
    if (comment !== undefined && (typeof comment !== 'string' || comment.length > 2000))
      return bad(ctx, 'comment must be text of at most 2000 characters');
    const customer = ctx.state.customer!;
    const reported = await deps.reports.report(ctx.params.id!, customer.account.id, (comment as string | undefined)?.trim() || null, {
      clientId: customer.clientId,
      ...requestMeta(ctx),
    });
    if (!reported) return bad(ctx, 'no such on-behalf session on your account', 404, 'not_found');
    ctx.status = reported.created ? 201 : 200;
    ctx.body = reportJson(reported.report);
  });

  return router;
}

/**
 * The customer's own view of login on behalf: who acted on their account,
 * when, why (reason, ticket), through which app, a way to end a session
 * that is still running, and a proof of a session's audit records that the
 * customer can keep and check offline (`behalf audit verify-proof`).
 * Authenticated with the customer's own access token.
 */
import Router from '@koa/router';
import type { OidcPort } from '../oidc/port.js';
import type { AccountService } from '../../accounts/account-service.js';
import { requireCustomerToken } from '../admin/bearer-auth.js';
import { requestMeta } from '../audit-trail/request-meta.js';
import type { OnBehalfRepository, SessionView } from '../on-behalf/on-behalf-repository.js';
import { ProofUnavailableError, type AuditService } from '../audit-trail/audit-service.js';

export function accountRoutes(deps: {
  oidc: OidcPort;
  accounts: AccountService;
  sessions: OnBehalfRepository;
  audit?: AuditService;
}): Router {
  const router = new Router({ prefix: '/account' });
  router.use(requireCustomerToken(deps.oidc, deps.accounts));
  router.use(async (ctx, next) => {
    ctx.set('Cache-Control', 'no-store');
    await next();
  });

  async function describe(sessions: SessionView[]) {
    const names = new Map<string, string>();
    const clients = new Map<string, string>();
    const now = new Date();
    return Promise.all(
      sessions.map(async (session) => {
        if (!names.has(session.agentId))
          names.set(session.agentId, (await deps.accounts.findById(session.agentId))?.displayName ?? 'a former support agent');
        if (!clients.has(session.clientId))
          clients.set(session.clientId, (await deps.oidc.findClient(session.clientId))?.name ?? session.clientId);
        return {
          id: session.id,
          agent: { id: session.agentId, name: names.get(session.agentId) },
          client: { id: session.clientId, name: clients.get(session.clientId) },
          reason: session.reason,
          ticket: session.ticket,
          started_at: session.startedAt.toISOString(),
          expires_at: session.expiresAt.toISOString(),
          ended_at: session.endedAt?.toISOString() ?? null,
          end_reason: session.endReason ?? (session.expiresAt <= now ? 'expired' : null),
          active: !session.endedAt && session.expiresAt > now,
        };
      }),
    );
  }

  router.get('/on-behalf-sessions', async (ctx) => {
    const customer = ctx.state.customer!;
    ctx.body = { sessions: await describe(await deps.sessions.list({ customerId: customer.account.id, limit: 100 })) };
  });

  // "Download proof": every audit record of one of the customer's sessions, each with its inclusion proof in a signed tree head.
  router.get('/on-behalf-sessions/:id/proof', async (ctx) => {
    const customer = ctx.state.customer!;
    const session = await deps.sessions.session(ctx.params.id!);
    if (!session || session.customerId !== customer.account.id || !deps.audit) {
      ctx.status = 404;
      ctx.body = { error: 'not_found', error_description: 'no such on-behalf session on your account' };
      return;
    }
    const { events } = await deps.audit.events.query({ sessionId: session.id, limit: 500 });
    const proofs = [];
    let pending = 0;
    for (const event of events.reverse()) {
      if (event.seq === null) {
        pending += 1;
        continue;
      }
      try {
        proofs.push(await deps.audit.inclusionProof(event.seq));
      } catch (error) {
        if (!(error instanceof ProofUnavailableError)) throw error;
        pending += 1;
      }
    }
    ctx.attachment(`on-behalf-session-${session.id}.proof.json`);
    // Records not yet under a signed tree head (about a second after they happen) come in a later download.
    ctx.body = { session_id: session.id, proofs, not_yet_provable: pending };
  });

  router.post('/on-behalf-sessions/:id/end', async (ctx) => {
    const customer = ctx.state.customer!;
    const session = await deps.sessions.session(ctx.params.id!);
    // Another customer's session looks exactly like a missing one.
    if (!session || session.customerId !== customer.account.id) {
      ctx.status = 404;
      ctx.body = { error: 'not_found', error_description: 'no such on-behalf session on your account' };
      return;
    }
    const ended = await deps.sessions.endSession(session.id, customer.account.id, 'ended_by_customer', {
      clientId: customer.clientId,
      ...requestMeta(ctx),
    });
    ctx.body = (await describe([ended ?? session]))[0];
  });

  return router;
}

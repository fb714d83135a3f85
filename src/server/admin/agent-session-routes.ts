/**
 * The agent's own on-behalf sessions (for the portal's "My on-behalf
 * sessions"): list them, with the customer named, and end one. Authorised by
 * the agent's own back-office token (any active staff member), never by the
 * admin role: an agent sees and ends only sessions in which they are the
 * agent; anyone else's session is "not found", so its existence does not leak.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { OidcPort } from '../oidc/port.js';
import type { DataSource } from 'typeorm';
import type { AccountService } from '../../accounts/account-service.js';
import { LOGIN_ON_BEHALF } from '../../token-exchange/on-behalf-policy.js';
import { requestMeta } from '../audit-trail/request-meta.js';
import type { OnBehalfRepository, SessionView } from '../on-behalf/on-behalf-repository.js';
import { requireAnyStaffToken } from './bearer-auth.js';
import { sessionJson } from './session-routes.js';
import { sessionPeople, type SessionPerson } from './session-people.js';
import { isUuid } from '../../common/uuid.js';

export interface AgentSessionDeps {
  oidc: OidcPort;
  accounts: AccountService;
  sessions: OnBehalfRepository;
  dataSource: DataSource;
  /** The per-agent limit, so the portal can say "2 of 3 open". */
  maxConcurrentSessions: number;
}

function problem(ctx: Context, status: 400 | 404, error: string, description: string): void {
  ctx.status = status;
  ctx.body = { error, error_description: description };
}

/** A session as the agent sees it: the admin API's fields plus the customer by name (never a bare id only). */
function withCustomer(session: SessionView, people: Map<string, SessionPerson>): Record<string, unknown> {
  const customer = people.get(session.customerId);
  return { ...sessionJson(session), customer: customer ?? { id: session.customerId, name: null, email: null, store: null } };
}

export function agentSessionRoutes(deps: AgentSessionDeps): Router {
  const router = new Router({ prefix: '/agent/on-behalf' });
  router.use(requireAnyStaffToken(deps.oidc, deps.accounts));
  router.use(async (ctx, next) => {
    // Names and reasons of customers: never cached by a browser or a proxy.
    ctx.set('Cache-Control', 'no-store');
    await next();
  });

  router.get('/sessions', async (ctx) => {
    const { active, limit } = ctx.query;
    if (active !== undefined && active !== 'true' && active !== 'false')
      return problem(ctx, 400, 'invalid_request', 'active must be true or false');
    if (limit !== undefined && (typeof limit !== 'string' || !/^\d{1,3}$/.test(limit) || Number(limit) < 1 || Number(limit) > 200)) {
      return problem(ctx, 400, 'invalid_request', 'limit must be a whole number from 1 to 200');
    }
    const agent = ctx.state.staff!.account;
    const [sessions, found] = await Promise.all([
      deps.sessions.list({
        agentId: agent.id,
        active: active === undefined ? undefined : active === 'true',
        limit: limit ? Number(limit) : 50,
      }),
      deps.accounts.findWithPermissions([agent.id]),
    ]);
    const people = await sessionPeople(
      deps.dataSource,
      sessions.map((session) => session.customerId),
    );
    ctx.body = {
      agent: { id: agent.id, name: agent.displayName },
      may_login_on_behalf: (found.get(agent.id)?.permissions ?? []).some((grant) => grant.permission === LOGIN_ON_BEHALF),
      max_concurrent_sessions: deps.maxConcurrentSessions,
      sessions: sessions.map((session) => withCustomer(session, people)),
    };
  });

  router.post('/sessions/:id/end', async (ctx) => {
    const id = ctx.params.id!;
    if (!isUuid(id)) return problem(ctx, 400, 'invalid_request', 'the session must be named by its id');
    const agent = ctx.state.staff!;
    const session = await deps.sessions.session(id);
    if (!session || session.agentId !== agent.account.id) return problem(ctx, 404, 'not_found', 'no such on-behalf session of yours');
    // Audited by the store (on_behalf.ended, actor = the agent); ending an ended session changes nothing.
    const ended = await deps.sessions.endSession(session.id, agent.account.id, 'ended_by_agent', {
      clientId: agent.clientId,
      ...requestMeta(ctx),
    });
    const current = ended ?? session;
    ctx.body = {
      ...withCustomer(current, await sessionPeople(deps.dataSource, [current.customerId])),
      ended_now: ended?.endedNow ?? false,
    };
  });

  return router;
}

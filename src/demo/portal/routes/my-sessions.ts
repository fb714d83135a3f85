/**
 * "My on-behalf sessions": the signed-in agent's own open sessions (whom for,
 * where, why, how long left) with an End button each, and the recently ended
 * ones. Everything goes through Behalf's agent API with the agent's own
 * token, which shows and ends only sessions in which they are the agent.
 */
import Router from '@koa/router';
import {
  clock,
  customerText,
  endAgentSession,
  endReasonText,
  listAgentSessions,
  timeLeft,
  when,
  type AgentSessionJson,
} from '../agent-sessions.js';
import { notFound } from '../behalf-api.js';
import { render, requireUser, type PortalDeps } from './deps.js';
import { isUuid } from '../../../common/uuid.js';

const RECENT = 20;

function row(session: AgentSessionJson, now: number) {
  return {
    id: session.id,
    customerName: session.customer.name ?? 'Unknown account',
    customerEmail: session.customer.email ?? '',
    storeName: session.customer.store?.name ?? session.client_id,
    reason: session.reason,
    ticket: session.ticket ?? '',
    started: when(session.started_at),
    startedClock: clock(session.started_at),
    left: timeLeft(session.expires_at, now),
    ended: when(session.ended_at ?? session.expires_at),
    endText: endReasonText(session.end_reason),
  };
}

export function mySessionRoutes(deps: PortalDeps): Router {
  const router = new Router();

  router.get('/my-sessions', async (ctx) => {
    const { session, user } = requireUser(deps, ctx);
    const [active, ended] = await Promise.all([
      listAgentSessions(deps.api, user.accessToken, { active: true, limit: 100 }),
      listAgentSessions(deps.api, user.accessToken, { active: false, limit: RECENT }),
    ]);
    session.mayLoginOnBehalf = active.may_login_on_behalf;
    const now = Date.now();
    const open = active.sessions.filter((s) => s.active);
    await render(deps, ctx, 'my-sessions', {
      title: 'My on-behalf sessions',
      section: 'my-sessions',
      limit: active.max_concurrent_sessions,
      atLimit: open.length >= active.max_concurrent_sessions,
      mayLoginOnBehalf: active.may_login_on_behalf,
      active: open.map((s) => row(s, now)),
      ended: ended.sessions.map((s) => row(s, now)),
    });
  });

  router.post('/my-sessions/:id/end', async (ctx) => {
    const { session, user } = requireUser(deps, ctx);
    if (!isUuid(ctx.params.id!)) throw notFound('There is no such on-behalf session.');
    const ended = await endAgentSession(deps.api, user.accessToken, ctx.params.id!);
    const whom = customerText(ended.customer);
    session.flash = ended.ended_now
      ? `You ended your on-behalf session as ${whom} (started ${when(ended.started_at)}). Its tokens stop working within seconds.`
      : `Your on-behalf session as ${whom} had already ended.`;
    ctx.redirect('/my-sessions');
  });

  return router;
}

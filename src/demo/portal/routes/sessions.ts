/**
 * Admins: on-behalf sessions (active and past, by agent or customer), ending
 * one, and ending all of an agent's (the kill switch), through Behalf's admin
 * API. Behalf records each end with the admin as the one who ended it.
 */
import Router from '@koa/router';
import { PortalError } from '../behalf-api.js';
import { endReasonText, when, type SessionCustomer } from '../agent-sessions.js';
import { localPath, param, render, requireAdmin, type PortalDeps } from './deps.js';
import { isUuid } from '../../../common/uuid.js';

interface SessionJson {
  id: string;
  agent_id: string;
  customer_id: string;
  client_id: string;
  reason: string;
  ticket: string | null;
  started_at: string;
  expires_at: string;
  ended_at: string | null;
  ended_by: string | null;
  end_reason: string | null;
  active: boolean;
  /** Names for the ids (Behalf joins them in). */
  agent?: SessionCustomer;
  customer?: SessionCustomer;
}

const STATES: Record<string, string | undefined> = { active: 'true', ended: 'false', all: undefined };

export function sessionRoutes(deps: PortalDeps): Router {
  const router = new Router();

  router.get('/sessions', async (ctx) => {
    const { user } = await requireAdmin(deps, ctx);
    const filters = { agent: param(ctx, 'agent'), customer: param(ctx, 'customer'), state: param(ctx, 'state') || 'all' };
    let sessions: SessionJson[] = [];
    let error: string | undefined;
    try {
      if (!(filters.state in STATES)) throw new PortalError(400, 'Check the filter', 'Show must be active, past, or both.');
      sessions = (
        await deps.api.get<{ sessions: SessionJson[] }>('/admin/on-behalf/sessions', user.accessToken, {
          agent: filters.agent,
          customer: filters.customer,
          active: STATES[filters.state],
          limit: '200',
        })
      ).sessions;
    } catch (caught) {
      if (!(caught instanceof PortalError) || caught.status !== 400) throw caught;
      error = caught.message;
    }
    await render(
      deps,
      ctx,
      'sessions',
      {
        title: 'On-behalf sessions',
        section: 'sessions',
        ...filters,
        // The kill switch needs the agent's id: the one typed, or the one every listed session has (typed by name or email).
        endAllAgent: isUuid(filters.agent)
          ? filters.agent
          : filters.agent && sessions.length && sessions.every((session) => session.agent_id === sessions[0]!.agent_id)
            ? sessions[0]!.agent_id
            : undefined,
        consoleUrl: `${deps.api.issuer}/console/sessions`,
        error,
        returnTo: ctx.originalUrl,
        sessions: sessions.map((session) => ({
          ...session,
          started: when(session.started_at),
          expires: when(session.expires_at),
          ended: when(session.ended_at),
          endText: endReasonText(session.end_reason),
          agentName: session.agent?.name ?? 'Unknown agent',
          agentEmail: session.agent?.email ?? '',
          customerName: session.customer?.name ?? 'Unknown customer',
          customerEmail: session.customer?.email ?? '',
        })),
      },
      error ? 400 : 200,
    );
  });

  router.post('/sessions/:id/end', async (ctx) => {
    const { session, user } = await requireAdmin(deps, ctx);
    if (!isUuid(ctx.params.id!)) throw new PortalError(404, 'Not found', 'There is no such on-behalf session.');
    const ended = await deps.api.post<SessionJson>(`/admin/on-behalf/sessions/${ctx.params.id}/end`, user.accessToken);
    session.flash = ended.active
      ? 'The session is still active.'
      : 'The on-behalf session has ended; its tokens stop working within seconds.';
    ctx.redirect(localPath((ctx.request.body as Record<string, unknown>).return_to, '/sessions'));
  });

  router.post('/agents/:id/end-all', async (ctx) => {
    const { session, user } = await requireAdmin(deps, ctx);
    if (!isUuid(ctx.params.id!)) throw new PortalError(404, 'Not found', 'There is no such agent.');
    const result = await deps.api.post<{ ended: number }>(`/admin/on-behalf/agents/${ctx.params.id}/end-all`, user.accessToken);
    session.flash = result.ended === 1 ? 'Ended 1 session of this agent.' : `Ended ${result.ended} sessions of this agent.`;
    ctx.redirect(localPath((ctx.request.body as Record<string, unknown>).return_to, '/sessions'));
  });

  return router;
}

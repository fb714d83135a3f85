/**
 * Console pages for on-behalf sessions: who acts as whom, where, why, for how
 * long; End and "End all of this agent", each after a confirmation page that
 * names who and how many.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import { isUuid } from '../../common/uuid.js';
import { queryString } from './admin-api.js';
import { errorField, param, type ConsoleKit } from './console-kit.js';
import * as format from './format.js';

interface Party {
  id: string;
  name: string | null;
  email: string | null;
  store: { slug: string; name: string } | null;
}

export interface SessionJson {
  id: string;
  agent: Party;
  customer: Party;
  client_id: string;
  reason: string;
  ticket: string | null;
  started_at: string;
  expires_at: string;
  ended_at: string | null;
  end_reason: string | null;
  active: boolean;
  ended_by_person: Party | null;
}

const STATES = ['active', 'ended', 'all'] as const;

/** "Sam Support’s session as Oleg Petrov at Electronics" */
export function sessionTitle(session: SessionJson): string {
  const store = session.customer.store?.name;
  return `${format.personName(session.agent)}’s session as ${format.personName(session.customer)}${store ? ` at ${store}` : ''}`;
}

export function sessionPages(router: Router, kit: ConsoleKit): void {
  router.get('/sessions', async (ctx) => {
    const filters = { agent: param(ctx, 'agent'), customer: param(ctx, 'customer'), store: param(ctx, 'store') };
    const state = (STATES as readonly string[]).includes(param(ctx, 'state')) ? param(ctx, 'state') : 'active';
    const active = state === 'all' ? undefined : String(state === 'active');
    const answer = await kit
      .api(ctx)
      .get<{ sessions: SessionJson[] }>(`/admin/on-behalf/sessions${queryString({ ...filters, active, limit: '200' })}`);
    const error = answer.status === 200 ? undefined : answer.body.error_description;
    const stores = (await kit.api(ctx).get<{ stores: { slug: string; name: string }[] }>('/admin/stores')).body.stores ?? [];
    const now = Date.now();
    kit.render(ctx, 'sessions', {
      title: state === 'active' ? 'Active on-behalf sessions' : 'On-behalf sessions',
      section: 'sessions',
      status: error ? 400 : 200,
      filters,
      state,
      stores,
      error,
      errorField: error ? (errorField(answer.body, ['agent', 'customer', 'store']) ?? 'agent') : undefined,
      returnTo: ctx.url,
      // Live view: the page of active sessions reloads itself every 30 s.
      refreshSeconds: state === 'active' && !error ? 30 : undefined,
      sessions: (answer.body.sessions ?? []).map((session) => ({
        ...session,
        started: format.when(session.started_at),
        timing: session.active
          ? `${format.minutes(Date.parse(session.expires_at) - now)} left`
          : `lasted ${format.minutes(Date.parse(session.ended_at ?? session.expires_at) - Date.parse(session.started_at))}`,
        ended: session.active
          ? 'Active'
          : `${format.endReason(session.end_reason)}${session.ended_by_person ? ` (${format.personName(session.ended_by_person)})` : ''}`,
      })),
    });
  });

  async function loadSession(ctx: Context): Promise<SessionJson | undefined> {
    if (!isUuid(ctx.params.id)) return undefined;
    const answer = await kit.api(ctx).get<SessionJson>(`/admin/on-behalf/sessions/${ctx.params.id}`);
    return answer.status === 200 ? answer.body : undefined;
  }

  function backTo(ctx: Context): string {
    const value = param(ctx, 'return_to') || String((ctx.request.body as Record<string, unknown> | undefined)?.return_to ?? '');
    return value.startsWith('/console/sessions') ? value : '/console/sessions';
  }

  router.get('/sessions/:id/end', async (ctx) => {
    const session = await loadSession(ctx);
    if (!session)
      return kit.render(ctx, 'message', {
        title: 'No such session',
        section: 'sessions',
        status: 404,
        message: 'There is no such on-behalf session.',
      });
    kit.render(ctx, 'confirm', {
      title: 'End this session?',
      section: 'sessions',
      question: `End ${sessionTitle(session)}?`,
      detail: session.active
        ? `Started ${format.when(session.started_at)}, reason “${session.reason}”. ${format.personName(session.agent)} can no longer act as ${format.personName(session.customer)} with it; its tokens stop working within seconds.`
        : 'This session has already ended.',
      action: `/console/sessions/${session.id}/end`,
      button: 'End session',
      disabled: !session.active,
      returnTo: backTo(ctx),
    });
  });

  router.post('/sessions/:id/end', async (ctx) => {
    const session = await loadSession(ctx);
    if (!session)
      return kit.render(ctx, 'message', {
        title: 'No such session',
        section: 'sessions',
        status: 404,
        message: 'There is no such on-behalf session.',
      });
    const answer = await kit.api(ctx).call('POST', `/admin/on-behalf/sessions/${session.id}/end`);
    if (answer.status !== 200)
      return kit.render(ctx, 'message', {
        title: 'Not ended',
        section: 'sessions',
        status: 400,
        message: answer.body.error_description ?? 'The session could not be ended.',
      });
    kit.done(ctx, backTo(ctx), session.active ? `Ended ${sessionTitle(session)}.` : `${sessionTitle(session)} had already ended.`);
  });

  async function agentSessions(ctx: Context) {
    if (!isUuid(ctx.params.id)) return undefined;
    const person = await kit.api(ctx).get<{ id: string; name: string; email: string | null }>(`/admin/people/${ctx.params.id}`);
    if (person.status !== 200) return undefined;
    const active = await kit
      .api(ctx)
      .get<{ sessions: SessionJson[] }>(`/admin/on-behalf/sessions?agent=${person.body.id}&active=true&limit=500`);
    return { agent: person.body, sessions: active.body.sessions ?? [] };
  }

  router.get('/agents/:id/end-all', async (ctx) => {
    const found = await agentSessions(ctx);
    if (!found)
      return kit.render(ctx, 'message', { title: 'No such agent', section: 'sessions', status: 404, message: 'There is no such agent.' });
    const { agent, sessions } = found;
    const count = sessions.length;
    const who = `${agent.name}${agent.email ? ` (${agent.email})` : ''}`;
    kit.render(ctx, 'confirm', {
      title: 'End all sessions of this agent?',
      section: 'sessions',
      question:
        count === 0
          ? `${who} has no active on-behalf session.`
          : count === 1
            ? `End the 1 active on-behalf session of ${who}?`
            : `End all ${count} active on-behalf sessions of ${who}?`,
      detail: 'Their re-authentications are revoked too, so they must confirm who they are again before acting as anyone.',
      items: sessions.map(
        (session) =>
          `As ${format.personName(session.customer)} at ${session.customer.store?.name ?? 'a store'}, since ${format.when(session.started_at)} — “${session.reason}”`,
      ),
      action: `/console/agents/${agent.id}/end-all`,
      button: count === 0 ? 'Revoke re-authentications' : `End ${count} session${count === 1 ? '' : 's'}`,
      returnTo: backTo(ctx),
    });
  });

  router.post('/agents/:id/end-all', async (ctx) => {
    const found = await agentSessions(ctx);
    if (!found)
      return kit.render(ctx, 'message', { title: 'No such agent', section: 'sessions', status: 404, message: 'There is no such agent.' });
    const answer = await kit.api(ctx).call<{ ended: number }>('POST', `/admin/on-behalf/agents/${found.agent.id}/end-all`);
    if (answer.status !== 200)
      return kit.render(ctx, 'message', {
        title: 'Not ended',
        section: 'sessions',
        status: 400,
        message: answer.body.error_description ?? 'The sessions could not be ended.',
      });
    const ended = answer.body.ended;
    kit.done(
      ctx,
      backTo(ctx),
      `Ended ${ended} session${ended === 1 ? '' : 's'} of ${found.agent.name}; their re-authentications are revoked.`,
    );
  });
}

/**
 * Admin API over on-behalf sessions (for the portal): list active and past
 * sessions, end one, or end all of an agent (kill switch). Admin role only;
 * every end is audited with the admin as the one who ended it.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { OidcPort } from '../oidc/port.js';
import type { DataSource } from 'typeorm';
import type { AccountService } from '../../accounts/account-service.js';
import { requestMeta } from '../audit-trail/request-meta.js';
import type { OnBehalfRepository, SessionView } from '../on-behalf/on-behalf-repository.js';
import { requireStaffToken } from './bearer-auth.js';
import { sessionPeople } from './session-people.js';
import { isUuid } from '../../common/uuid.js';
import type { StoreService } from '../../accounts/store-service.js';
import { PersonReferenceError, type PeopleDirectory } from './people-directory.js';

export function sessionJson(session: SessionView, now = new Date()): Record<string, unknown> {
  return {
    id: session.id,
    agent_id: session.agentId,
    customer_id: session.customerId,
    client_id: session.clientId,
    reason: session.reason,
    ticket: session.ticket,
    started_at: session.startedAt.toISOString(),
    expires_at: session.expiresAt.toISOString(),
    ended_at: session.endedAt?.toISOString() ?? null,
    ended_by: session.endedBy,
    end_reason: session.endReason ?? (session.expiresAt <= now ? 'expired' : null),
    active: !session.endedAt && session.expiresAt > now,
  };
}

/** What a store slug can be; anything else (a NUL, which PostgreSQL text cannot hold) names no store. */
const STORE_SLUG = /^[a-z0-9][a-z0-9-]{0,99}$/;

function bad(ctx: Context, description: string): void {
  ctx.status = 400;
  ctx.body = { error: 'invalid_request', error_description: description };
}

export function sessionAdminRoutes(deps: {
  oidc: OidcPort;
  accounts: AccountService;
  stores: StoreService;
  sessions: OnBehalfRepository;
  dataSource: DataSource;
  people: PeopleDirectory;
}): Router {
  const router = new Router({ prefix: '/admin/on-behalf' });

  /** Names for the ids (agent, customer, who ended it), so staff pages never show a bare account id. */
  async function withPeople(sessions: SessionView[]) {
    const people = await sessionPeople(
      deps.dataSource,
      sessions.flatMap((session) => [session.agentId, session.customerId, ...(isUuid(session.endedBy) ? [session.endedBy] : [])]),
    );
    const person = (id: string) => people.get(id) ?? { id, name: null, email: null, store: null };
    return sessions.map((session) => ({
      ...sessionJson(session),
      agent: person(session.agentId),
      customer: person(session.customerId),
      ended_by_person: isUuid(session.endedBy) ? person(session.endedBy) : null,
    }));
  }

  router.use(requireStaffToken(deps.oidc, deps.accounts, 'admin'));
  router.use(async (ctx, next) => {
    ctx.set('Cache-Control', 'no-store');
    await next();
  });

  /** `agent`/`customer`: an account id, an email or a name; unknown or ambiguous is a 400 that says so, never an empty list. */
  router.get('/sessions', async (ctx) => {
    const { agent, customer, store, active, limit } = ctx.query;
    const filter: Parameters<OnBehalfRepository['list']>[0] = {};
    for (const [name, value] of Object.entries({ agent, customer })) {
      if (value === undefined || value === '') continue;
      if (typeof value !== 'string') return bad(ctx, `${name} may be given only once`);
      try {
        const { ids } = await deps.people.resolve(value, name);
        if (name === 'agent') filter.agentIds = ids;
        else filter.customerIds = ids;
      } catch (error) {
        if (error instanceof PersonReferenceError) return bad(ctx, error.message);
        throw error;
      }
    }
    if (store !== undefined && store !== '') {
      const found = typeof store === 'string' && STORE_SLUG.test(store) ? await deps.stores.findBySlug(store) : undefined;
      if (!found) return bad(ctx, 'store must be the slug of a store (such as electronics)');
      filter.storeId = found.id;
    }
    if (active !== undefined && active !== 'true' && active !== 'false') return bad(ctx, 'active must be true or false');
    if (limit !== undefined && (typeof limit !== 'string' || !/^\d{1,3}$/.test(limit) || Number(limit) < 1 || Number(limit) > 500))
      return bad(ctx, 'limit must be a whole number from 1 to 500');
    filter.active = active === undefined ? undefined : active === 'true';
    filter.limit = limit ? Number(limit) : undefined;
    const sessions = await deps.sessions.list(filter);
    ctx.body = { sessions: await withPeople(sessions) };
  });

  router.get('/sessions/:id', async (ctx) => {
    const session = isUuid(ctx.params.id) ? await deps.sessions.session(ctx.params.id!) : undefined;
    if (!session) {
      ctx.status = 404;
      ctx.body = { error: 'not_found', error_description: 'no such on-behalf session' };
      return;
    }
    ctx.body = (await withPeople([session]))[0];
  });

  router.post('/sessions/:id/end', async (ctx) => {
    const session = await deps.sessions.session(ctx.params.id!);
    if (!session) {
      ctx.status = 404;
      ctx.body = { error: 'not_found', error_description: 'no such on-behalf session' };
      return;
    }
    const admin = ctx.state.staff!;
    const ended = await deps.sessions.endSession(session.id, admin.account.id, 'ended_by_admin', {
      clientId: admin.clientId,
      ...requestMeta(ctx),
    });
    ctx.body = sessionJson(ended ?? session);
  });

  router.post('/agents/:id/end-all', async (ctx) => {
    if (!isUuid(ctx.params.id!)) return bad(ctx, 'the agent must be named by account id (find it with GET /admin/people?q=)');
    const admin = ctx.state.staff!;
    const ended = await deps.sessions.endAgentSessions(ctx.params.id!, admin.account.id, 'kill_switch', requestMeta(ctx));
    ctx.body = { agent_id: ctx.params.id, ended };
  });

  return router;
}

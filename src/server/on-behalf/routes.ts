/**
 * Back-channel endpoints for on-behalf sessions:
 * - POST /on-behalf/sessions/end — the storefront's "End session" (its own sessions only);
 * - GET /on-behalf/sessions/:id/status — is the session still running? For the
 *   session's client and for resource servers' own clients (the kit polls it).
 */
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context } from 'koa';
import { requestMeta } from '../audit-trail/request-meta.js';
import { requireClient } from '../http/client-auth.js';
import type { OidcPort } from '../oidc/port.js';
import type { OnBehalfRepository, SessionView } from './on-behalf-repository.js';

function status(session: SessionView, now = new Date()) {
  return {
    session_id: session.id,
    active: !session.endedAt && session.expiresAt > now,
    started_at: session.startedAt.toISOString(),
    expires_at: session.expiresAt.toISOString(),
    ended_at: session.endedAt?.toISOString() ?? null,
    end_reason: session.endReason ?? (session.expiresAt <= now ? 'expired' : null),
  };
}

function notFound(ctx: Context): void {
  ctx.status = 404;
  ctx.body = { error: 'not_found', error_description: 'no such on-behalf session for this client' };
}

export function onBehalfRoutes(deps: { oidc: OidcPort; sessions: OnBehalfRepository; maxBodyBytes: number }): Router {
  const router = new Router({ prefix: '/on-behalf/sessions' });
  router.use(async (ctx, next) => {
    ctx.set('Cache-Control', 'no-store');
    await next();
  });
  router.use(requireClient(deps.oidc));

  router.post(
    '/end',
    bodyParser({ enableTypes: ['form', 'json'], formLimit: `${deps.maxBodyBytes}b`, jsonLimit: `${deps.maxBodyBytes}b` }),
    async (ctx) => {
      const body = (ctx.request.body ?? {}) as Record<string, unknown>;
      const sessionId = typeof body.session_id === 'string' ? body.session_id : '';
      if (!sessionId) {
        ctx.status = 400;
        ctx.body = { error: 'invalid_request', error_description: 'session_id (the obo_sid of the session) is required' };
        return;
      }
      const client = ctx.state.client!;
      const session = await deps.sessions.session(sessionId);
      if (!session || session.clientId !== client.clientId) return notFound(ctx);
      const ended = await deps.sessions.endSession(session.id, `client:${client.clientId}`, 'ended_by_client', {
        clientId: client.clientId,
        ...requestMeta(ctx),
      });
      ctx.body = status(ended ?? session);
    },
  );

  router.get('/:id/status', async (ctx) => {
    const client = ctx.state.client!;
    const session = await deps.sessions.session(ctx.params.id!);
    const own = session?.clientId === client.clientId;
    const mayAsk = session && (own || client.resourceServers.length > 0);
    if (!session || !mayAsk) return notFound(ctx);
    // The session's own client shows the agent why they act (its banner); resource servers need only whether.
    ctx.body = own ? { ...status(session), reason: session.reason, ticket: session.ticket } : status(session);
  });

  return router;
}

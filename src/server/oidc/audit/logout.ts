/**
 * RP-initiated logout: `auth.logout` (recorded best-effort: the session is
 * already gone), then whoever listens is told (the on-behalf module ends the
 * agent's sessions and revokes their re-authentications).
 */
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { AuditService } from '../../audit-trail/audit-service.js';
import { requestMeta, type RequestMeta } from '../../audit-trail/request-meta.js';
import type { Logger } from '../../observability/logger.js';

export type LogoutListener = (accountId: string, meta: RequestMeta) => Promise<unknown>;

export function logoutAudit(audit: AuditService, logger: Logger, listeners: LogoutListener[] = []) {
  return async function auditLogout(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
    await next();
    if (ctx.oidc?.route !== 'end_session_confirm' || ctx.status >= 400) return;
    const accountId = ctx.oidc.session?.accountId;
    if (!accountId) return;
    const meta = requestMeta(ctx);
    await audit
      .record({
        type: 'auth.logout',
        actor: accountId,
        subject: accountId,
        clientId: ctx.oidc.client?.clientId ?? null,
        ...meta,
        details: { everywhere: Boolean(ctx.oidc.params?.logout) },
      })
      .catch((error: unknown) => logger.error('auth.logout could not be recorded', { error }));
    for (const listener of listeners)
      await listener(accountId, meta).catch((error: unknown) => logger.error('a logout listener failed', { error }));
  };
}

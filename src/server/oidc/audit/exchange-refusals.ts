/**
 * Token-exchange requests oidc-provider refused before the grant ran (client
 * authentication, a client without the grant, duplicated parameters) are
 * denials too: every denial is audited. Refusals the grant made itself are
 * already recorded (the request is marked as audited).
 */
import type { KoaContextWithOIDC } from 'oidc-provider';
import { GRANT_TYPE, TOKEN_TYPES } from '../../../token-exchange/types.js';
import type { AuditService } from '../../audit-trail/audit-service.js';
import { requestMeta } from '../../audit-trail/request-meta.js';
import type { Logger } from '../../observability/logger.js';
import { wasAudited } from './audited-here.js';

export function exchangeRefusalAudit(audit: AuditService, logger: Logger) {
  return async function auditEarlyExchangeRefusal(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
    await next();
    if (ctx.oidc?.route !== 'token' || ctx.status < 400 || wasAudited(ctx)) return;
    // Before the grant ran, oidc-provider may not have parsed the parameters yet: the raw body has them.
    const params = (ctx.oidc.params ?? (ctx.oidc as { body?: Record<string, unknown> }).body ?? {}) as Record<string, unknown>;
    if (String(params.grant_type) !== GRANT_TYPE) return;
    const body = (ctx.body ?? {}) as { error?: unknown; error_description?: unknown };
    const clientId = ctx.oidc.client?.clientId ?? null;
    await audit
      .record({
        type: params.subject_token_type === TOKEN_TYPES.accountId ? 'on_behalf.denied' : 'delegation.denied',
        actor: clientId ? `client:${clientId}` : null,
        clientId,
        ...requestMeta(ctx),
        details: {
          error: String(body.error ?? 'invalid_request'),
          reason: 'refused_before_exchange',
          description: String(body.error_description ?? ''),
        },
      })
      .catch((error: unknown) => logger.error('token-exchange refusal could not be recorded', { error }));
  };
}

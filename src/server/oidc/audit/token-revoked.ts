/** `token.revoked` for RFC 7009 revocations (recorded best-effort: the token is already gone). */
import type { KoaContextWithOIDC } from 'oidc-provider';
import { tokenReference } from '../../../audit/token-reference.js';
import type { AuditService } from '../../audit-trail/audit-service.js';
import { requestMeta } from '../../audit-trail/request-meta.js';
import type { Logger } from '../../observability/logger.js';
import type { TokenLike } from './token-issued.js';

export function tokenRevokedAudit(audit: AuditService, logger: Logger) {
  return async function auditTokenRevoked(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
    await next();
    if (ctx.oidc?.route !== 'revocation' || ctx.status !== 200) return;
    const entities = ctx.oidc.entities as Record<string, TokenLike | undefined>;
    const token = entities.AccessToken ?? entities.RefreshToken ?? entities.ClientCredentials;
    if (!token?.jti) return;
    await audit
      .record({
        type: 'token.revoked',
        actor: ctx.oidc.client ? `client:${ctx.oidc.client.clientId}` : null,
        subject: token.accountId ?? null,
        clientId: ctx.oidc.client?.clientId ?? null,
        ...requestMeta(ctx),
        details: { token_kind: token.kind, token_ref: tokenReference(token.jti), grant_id: token.grantId },
      })
      .catch((error: unknown) => logger.error('token.revoked could not be recorded', { error }));
  };
}

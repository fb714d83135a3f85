/**
 * Fail-closed `token.issued`. This middleware runs inside oidc-provider's Koa
 * app, after the token endpoint built its response but before it is sent: a
 * token response leaves only once its record is committed; otherwise the
 * client gets a 503 and the stored tokens are destroyed. Grants that write
 * their own records (the token exchange) mark the request as audited.
 */
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { AuditEventInput } from '../../../audit/index.js';
import { tokenReference } from '../../../audit/token-reference.js';
import type { AuditService } from '../../audit-trail/audit-service.js';
import { requestMeta } from '../../audit-trail/request-meta.js';
import type { Logger } from '../../observability/logger.js';
import { wasAudited } from './audited-here.js';
import { deferringStatuses, takeDeferredStatuses, type StatusRow } from '../../token-status/deferred-registration.js';

/** What the middleware reads of oidc-provider's token entities. */
export interface TokenLike {
  jti?: string;
  kind?: string;
  accountId?: string;
  grantId?: string;
  sessionUid?: string;
  scope?: string;
  aud?: string | string[];
  resourceServer?: { accessTokenFormat?: string; audience?: string };
  destroy?: () => Promise<void>;
}

function describeAccessToken(token: TokenLike | undefined): Record<string, string | undefined> {
  if (!token?.jti) return {};
  const jwt = token.resourceServer?.accessTokenFormat === 'jwt';
  return {
    access_token_format: jwt ? 'jwt' : 'opaque',
    ...(jwt ? { jti: token.jti } : { token_ref: tokenReference(token.jti) }),
    audience: token.resourceServer?.audience ?? (Array.isArray(token.aud) ? token.aud.join(' ') : token.aud),
  };
}

function tokenIssuedEvent(ctx: KoaContextWithOIDC): AuditEventInput {
  const entities = ctx.oidc.entities as Record<string, TokenLike | undefined>;
  const clientId = ctx.oidc.client?.clientId ?? null;
  const access = entities.AccessToken ?? entities.ClientCredentials;
  const accountId = access?.accountId ?? null;
  const body = (ctx.body ?? {}) as Record<string, unknown>;
  return {
    type: 'token.issued',
    actor: accountId ?? (clientId ? `client:${clientId}` : null),
    subject: accountId,
    clientId,
    sessionId: access?.sessionUid ?? null,
    ...requestMeta(ctx),
    details: {
      grant_type: String(ctx.oidc.params?.grant_type ?? ''),
      scope: typeof body.scope === 'string' ? body.scope : undefined,
      expires_in: typeof body.expires_in === 'number' ? body.expires_in : undefined,
      grant_id: access?.grantId,
      refresh_token: typeof body.refresh_token === 'string',
      id_token: typeof body.id_token === 'string',
      ...describeAccessToken(access),
    },
  };
}

async function destroyIssued(ctx: KoaContextWithOIDC): Promise<void> {
  const entities = ctx.oidc.entities as Record<string, TokenLike | undefined>;
  for (const name of ['AccessToken', 'ClientCredentials', 'RefreshToken']) {
    await entities[name]?.destroy?.().catch(() => undefined);
  }
}

export function tokenIssuedAudit(audit: AuditService, writeStatuses: (rows: StatusRow[]) => Promise<void>, logger: Logger) {
  const withhold = async (ctx: KoaContextWithOIDC, error: unknown) => {
    logger.error('token.issued could not be recorded; token withheld', { error, clientId: ctx.oidc?.client?.clientId });
    await destroyIssued(ctx);
    ctx.status = 503;
    ctx.set('Retry-After', '5');
    ctx.body = {
      error: 'temporarily_unavailable',
      error_description: 'the token could not be recorded in the audit trail, so it was not issued; try again',
    };
  };
  return async function auditTokenIssued(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
    // Status-list rows of the JWTs signed below ride on this request's audit record (deferred-registration.ts).
    await deferringStatuses(async () => {
      await next();
      const succeeded = ctx.status < 400;
      try {
        if (ctx.oidc?.route === 'token' && ctx.status === 200 && !wasAudited(ctx)) await audit.record(tokenIssuedEvent(ctx));
        // Rows no record carried (a grant that audits itself in its own way) are written before the response leaves;
        // those of a request that failed name tokens nobody receives.
        const left = takeDeferredStatuses();
        if (succeeded && left.length) await writeStatuses(left);
      } catch (error) {
        await withhold(ctx, error);
      }
    });
  };
}

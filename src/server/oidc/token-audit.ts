/**
 * Fail-closed auditing of oidc-provider's endpoints. This middleware runs
 * inside oidc-provider's Koa app, after the endpoint built its response but
 * before that response is sent: a token response leaves only once its
 * `token.issued` record is committed; otherwise the client gets a 503 and the
 * stored tokens are destroyed.
 */
import { createHash } from 'node:crypto';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { AuditEventInput } from '../../audit/index.js';
import type { AuditService } from '../audit/audit-service.js';
import { requestMeta } from '../audit/request-meta.js';
import type { Logger } from '../observability/logger.js';
import type { ImplicitConsentListener, ReauthScopeRefusalListener } from './first-party-grant.js';
import { handledExchanges } from '../token-exchange/grant.js';

/** Grants that write their own audit record inside their own transaction. */
const SELF_AUDITED_GRANTS = new Set(['urn:ietf:params:oauth:grant-type:token-exchange']);

interface TokenLike {
  jti?: string;
  accountId?: string;
  grantId?: string;
  sessionUid?: string;
  scope?: string;
  aud?: string | string[];
  resourceServer?: { accessTokenFormat?: string; audience?: string };
  destroy?: () => Promise<void>;
}

/** A stable reference to a token that is not the token: opaque token ids are bearer secrets. */
export function tokenReference(id: string): string {
  return createHash('sha256').update(id).digest('base64url').slice(0, 22);
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

/**
 * Token-exchange requests oidc-provider refused before the grant ran (client
 * authentication, a client without the grant, duplicated parameters) are
 * denials too: every denial is audited.
 */
async function recordEarlyRefusal(ctx: KoaContextWithOIDC, audit: AuditService, logger: Logger): Promise<void> {
  if (handledExchanges.has(ctx)) return;
  const body = (ctx.body ?? {}) as { error?: unknown; error_description?: unknown };
  const params = (ctx.oidc.params ?? (ctx.oidc as { body?: Record<string, unknown> }).body ?? {}) as Record<string, unknown>;
  const clientId = ctx.oidc.client?.clientId ?? null;
  await audit
    .record({
      type: params.subject_token_type === 'urn:behalf:params:oauth:token-type:account_id' ? 'on_behalf.denied' : 'delegation.denied',
      actor: clientId ? `client:${clientId}` : null,
      clientId,
      ...requestMeta(ctx),
      details: { error: String(body.error ?? 'invalid_request'), reason: 'refused_before_exchange', description: String(body.error_description ?? '') },
    })
    .catch((error) => logger.error('token-exchange refusal could not be recorded', { error }));
}

export function providerAuditMiddleware(audit: AuditService, logger: Logger) {
  return async function auditProviderResponses(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
    await next();
    const route = ctx.oidc?.route;
    if (!route) return;
    if (route === 'token' && ctx.status >= 400 && SELF_AUDITED_GRANTS.has(String(ctx.oidc.params?.grant_type ?? (ctx.oidc as { body?: Record<string, unknown> }).body?.grant_type))) {
      await recordEarlyRefusal(ctx, audit, logger);
      return;
    }
    if (ctx.status !== 200) return;

    if (route === 'token' && !SELF_AUDITED_GRANTS.has(String(ctx.oidc.params?.grant_type))) {
      try {
        await audit.record(tokenIssuedEvent(ctx));
      } catch (error) {
        logger.error('token.issued could not be recorded; token withheld', { error, clientId: ctx.oidc.client?.clientId });
        await destroyIssued(ctx);
        ctx.status = 503;
        ctx.set('Retry-After', '5');
        ctx.body = { error: 'temporarily_unavailable', error_description: 'the token could not be recorded in the audit trail, so it was not issued; try again' };
      }
      return;
    }

    if (route === 'revocation') {
      const entities = ctx.oidc.entities as Record<string, (TokenLike & { kind?: string }) | undefined>;
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
        .catch((error) => logger.error('token.revoked could not be recorded', { error }));
      return;
    }
  };
}

/**
 * RP-initiated logout: the session is already gone, so this one is recorded
 * best-effort. An agent's logout also ends every on-behalf session they hold.
 */
export function logoutAuditMiddleware(audit: AuditService, logger: Logger, onBehalf?: { endAgentSessions(agentId: string, by: string, reason: 'agent_logout', meta: { ip: string | null; userAgent: string | null }): Promise<number> }) {
  return async function auditLogout(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
    await next();
    if (ctx.oidc?.route !== 'end_session_confirm' || ctx.status >= 400) return;
    const accountId = ctx.oidc.session?.accountId;
    if (!accountId) return;
    await audit
      .record({
        type: 'auth.logout',
        actor: accountId,
        subject: accountId,
        clientId: ctx.oidc.client?.clientId ?? null,
        ...requestMeta(ctx),
        details: { everywhere: Boolean(ctx.oidc.params?.logout) },
      })
      .catch((error) => logger.error('auth.logout could not be recorded', { error }));
    await onBehalf?.endAgentSessions(accountId, accountId, 'agent_logout', requestMeta(ctx)).catch((error) => logger.error('ending on-behalf sessions at logout failed', { error }));
  };
}

/** First-party clients consent implicitly; the trail still shows what was granted. */
export function implicitConsentRecorder(audit: AuditService): ImplicitConsentListener {
  return async (ctx, consent) => {
    await audit.record({
      type: 'consent.granted',
      actor: consent.accountId,
      subject: consent.accountId,
      clientId: consent.clientId,
      ...requestMeta(ctx),
      details: { grant_id: consent.grantId, implicit: true, scopes: consent.scopes, claims: consent.claims, resources: consent.resources },
    });
  };
}

/** A re-authentication asked for more than `openid`; it got `openid` only, and the trail says what was refused. */
export function reauthScopeRefusalRecorder(audit: AuditService): ReauthScopeRefusalListener {
  return async (ctx, refusal) => {
    await audit.record({
      type: 'on_behalf.scope_refused',
      actor: refusal.accountId,
      subject: refusal.accountId,
      clientId: refusal.clientId,
      ...requestMeta(ctx),
      details: { grant_id: refusal.grantId, purpose: 'login_on_behalf', granted: ['openid'], scopes: refusal.scopes, claims: refusal.claims, resources: refusal.resources },
    });
  };
}

/** What a grant was given without a consent screen, and what a re-authentication was refused, for the trail. */
import type { AuditService } from '../../audit-trail/audit-service.js';
import { requestMeta } from '../../audit-trail/request-meta.js';
import type { ImplicitConsentListener, ReauthScopeRefusalListener } from '../first-party-grant.js';

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
      details: {
        grant_id: refusal.grantId,
        purpose: 'login_on_behalf',
        granted: ['openid'],
        scopes: refusal.scopes,
        claims: refusal.claims,
        resources: refusal.resources,
      },
    });
  };
}

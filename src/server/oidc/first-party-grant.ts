/**
 * `loadExistingGrant`: first-party clients skip the consent screen, so their
 * grant is widened here to what they asked for (and that implicit consent is
 * reported, for the audit trail); others keep their grant and meet the
 * consent prompt for anything new.
 */
import type { Grant, KoaContextWithOIDC } from 'oidc-provider';
import { behalfClient } from './client-metadata.js';
import { SUPPORTED_SCOPES } from './scopes.js';

/** What loading a grant changed without asking anyone: scopes, claims and resource scopes added (or refused). */
export interface GrantChange {
  grantId: string;
  accountId: string;
  clientId: string;
  scopes: string[];
  claims: string[];
  resources: Record<string, string[]>;
}

export type GrantChangeListener = (ctx: KoaContextWithOIDC, change: GrantChange) => Promise<void>;
/** A first-party client's grant was widened to what it asked (its implicit consent). */
export type ImplicitConsentListener = GrantChangeListener;
/** A re-authentication asked for more than `openid`, and that was refused on its grant. */
export type ReauthScopeRefusalListener = GrantChangeListener;

/** The only scope a re-authentication grant ever holds. */
export const REAUTH_SCOPE = 'openid';

/**
 * The re-authentication's grant, narrowed to `openid`: what else the request
 * asks is rejected (so the consent prompt sees it answered) and returned.
 */
async function narrowReauthGrant(ctx: KoaContextWithOIDC, onRefused?: ReauthScopeRefusalListener): Promise<Grant | undefined> {
  const { oidc } = ctx;
  // Before the re-auth screen there is nothing to load: prompt=login sends the agent there first,
  // and a grant saved now would hold whatever this request asked.
  const grantId = oidc.result?.login ? oidc.result.consent?.grantId : undefined;
  const grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
  if (!grant) return undefined;
  const granted = new Set(grant.getOIDCScope().split(' ').filter(Boolean));
  const scopes = [...oidc.requestParamScopes].filter((scope) => scope !== REAUTH_SCOPE && !granted.has(scope));
  const claims = [...oidc.requestParamClaims].filter((claim) => !['sub', 'sid', 'auth_time', 'acr', 'amr', 'iss'].includes(claim));
  const resources: Record<string, string[]> = {};
  for (const indicator of Object.keys(oidc.resourceServers ?? {})) {
    const asked = [...oidc.requestParamScopes].filter((scope) => oidc.resourceServers![indicator]!.scopes.has(scope));
    if (asked.length) resources[indicator] = asked;
  }
  if (!scopes.length && !claims.length && !Object.keys(resources).length) return grant;
  if (scopes.length) grant.rejectOIDCScope(scopes.join(' '));
  if (claims.length) grant.rejectOIDCClaims(claims);
  for (const [indicator, asked] of Object.entries(resources)) grant.rejectResourceScope(indicator, asked.join(' '));
  await grant.save();
  await onRefused?.(ctx, { grantId: grant.jti, accountId: grant.accountId!, clientId: grant.clientId!, scopes, claims, resources });
  return grant;
}

export interface GrantListeners {
  onImplicitConsent?: ImplicitConsentListener;
  onReauthScopeRefused?: ReauthScopeRefusalListener;
}

export function createLoadExistingGrant({ onImplicitConsent, onReauthScopeRefused }: GrantListeners = {}) {
  return async function loadExistingGrant(ctx: KoaContextWithOIDC): Promise<Grant | undefined> {
    const { oidc } = ctx;
    if (oidc.params?.on_behalf_of !== undefined) return narrowReauthGrant(ctx, onReauthScopeRefused);
    const client = oidc.client!;
    const grantId = oidc.result?.consent?.grantId ?? oidc.session!.grantIdFor(client.clientId);
    const existing = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
    if (!behalfClient(client).firstParty) return existing;

    const accountId = oidc.session!.accountId!;
    const grant = existing ?? new oidc.provider.Grant({ clientId: client.clientId, accountId });
    const requested = [...oidc.requestParamScopes];
    const granted = new Set(grant.getOIDCScope().split(' '));
    const scopes = requested.filter((scope) => SUPPORTED_SCOPES.includes(scope) && !granted.has(scope));
    if (scopes.length) grant.addOIDCScope(scopes.join(' '));
    const knownClaims = new Set(grant.getOIDCClaims());
    const claims = [...oidc.requestParamClaims].filter((claim) => !knownClaims.has(claim));
    if (claims.length) grant.addOIDCClaims(claims);
    const resources: Record<string, string[]> = {};
    for (const [indicator, resourceServer] of Object.entries(oidc.resourceServers ?? {})) {
      const available = new Set(resourceServer.scope.split(' '));
      const have = new Set(grant.getResourceScope(indicator).split(' '));
      const added = requested.filter((scope) => available.has(scope) && !have.has(scope));
      if (added.length) {
        grant.addResourceScope(indicator, added.join(' '));
        resources[indicator] = added;
      }
    }
    if (existing && !scopes.length && !claims.length && !Object.keys(resources).length) return existing;
    const savedId = await grant.save();
    await onImplicitConsent?.(ctx, { grantId: savedId, accountId, clientId: client.clientId, scopes, claims, resources });
    return grant;
  };
}

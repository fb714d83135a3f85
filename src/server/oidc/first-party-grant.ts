/**
 * `loadExistingGrant`: first-party clients skip the consent screen, so their
 * grant is widened here to what they asked for (and that implicit consent is
 * reported, for the audit trail); others keep their grant and meet the
 * consent prompt for anything new.
 */
import type { Grant, KoaContextWithOIDC } from 'oidc-provider';
import { behalfClient } from './client-metadata.js';
import { SUPPORTED_SCOPES } from './scopes.js';

export interface ImplicitConsent {
  grantId: string;
  accountId: string;
  clientId: string;
  scopes: string[];
  claims: string[];
  resources: Record<string, string[]>;
}

export type ImplicitConsentListener = (ctx: KoaContextWithOIDC, consent: ImplicitConsent) => Promise<void>;


export function createLoadExistingGrant(onImplicitConsent?: ImplicitConsentListener) {
  return async function loadExistingGrant(ctx: KoaContextWithOIDC): Promise<Grant | undefined> {
    const { oidc } = ctx;
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

/**
 * `loadExistingGrant`: first-party clients skip the consent screen, so their
 * grant is widened here to what they asked for; others keep their grant and
 * meet the consent prompt for anything new.
 */
import type { Grant, KoaContextWithOIDC } from 'oidc-provider';
import { behalfClient } from './client-metadata.js';

export async function loadExistingGrant(ctx: KoaContextWithOIDC): Promise<Grant | undefined> {
  const { oidc } = ctx;
  const client = oidc.client!;
  const grantId = oidc.result?.consent?.grantId ?? oidc.session!.grantIdFor(client.clientId);
  const existing = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
  if (!behalfClient(client).firstParty) return existing;

  const grant = existing ?? new oidc.provider.Grant({ clientId: client.clientId, accountId: oidc.session!.accountId! });
  const requested = [...oidc.requestParamScopes];
  const oidcScopes = requested.filter((scope) => ['openid', 'profile', 'email', 'offline_access'].includes(scope));
  if (oidcScopes.length) grant.addOIDCScope(oidcScopes.join(' '));
  const claims = [...oidc.requestParamClaims];
  if (claims.length) grant.addOIDCClaims(claims);
  for (const [indicator, resourceServer] of Object.entries(oidc.resourceServers ?? {})) {
    const available = new Set(resourceServer.scope.split(' '));
    const scopes = requested.filter((scope) => available.has(scope));
    if (scopes.length) grant.addResourceScope(indicator, scopes.join(' '));
  }
  await grant.save();
  return grant;
}

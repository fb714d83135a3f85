/**
 * The one implementation of the OIDC port (port.ts) on oidc-provider. The
 * provider itself is rebuilt on key rotation (provider-holder.ts), so every
 * call asks for the current one.
 */
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';
import { behalfClient } from './client-metadata.js';
import type { GrantAdditions, InteractionDetails, InteractionOutcome, OidcPort, RegisteredClient, StoredToken } from './port.js';

type LoadedClient = InstanceType<Provider['Client']>;
type LoadedToken = InstanceType<Provider['AccessToken']>;

function registered(client: LoadedClient): RegisteredClient {
  return { ...behalfClient(client), ...(client.clientName ? { name: client.clientName } : {}) };
}

function scopeList(scope: unknown): string[] {
  return typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [];
}

function stored(token: LoadedToken, kind: StoredToken['kind']): StoredToken {
  const { aud, accountId, grantId, jkt } = token as { aud?: string | string[]; accountId?: string; grantId?: string; jkt?: string };
  return {
    kind,
    jti: token.jti,
    clientId: token.clientId!,
    ...(accountId ? { accountId } : {}),
    ...(grantId ? { grantId } : {}),
    scope: scopeList(token.scope),
    audience: Array.isArray(aud) ? aud : aud ? [aud] : [],
    expiresAt: new Date(token.exp! * 1000),
    extra: { ...((token.extra ?? {}) as Record<string, unknown>) },
    ...(jkt ? { boundKey: jkt } : {}),
  };
}

export function providerPort(current: () => Provider): OidcPort {
  return {
    async findToken(value, options = {}) {
      if (value.length > 512 || value.includes('\u0000')) return undefined;
      const provider = current();
      const access = await provider.AccessToken.find(value);
      if (access && !access.isExpired) return stored(access, 'AccessToken');
      if (!options.clientCredentials) return undefined;
      const own = await provider.ClientCredentials.find(value);
      return own && !own.isExpired ? stored(own as unknown as LoadedToken, 'ClientCredentials') : undefined;
    },

    async grantHolds(grantId, clientId, accountId) {
      const grant = await current().Grant.find(grantId, { ignoreExpiration: true });
      return !!grant && !grant.isExpired && grant.clientId === clientId && grant.accountId === accountId;
    },

    async findClient(clientId) {
      const client = await current().Client.find(clientId);
      return client ? registered(client) : undefined;
    },

    async authenticateClient(clientId, secret) {
      const client = await current().Client.find(clientId);
      // Awaited: with secret rotation the comparison may also ask for the previous secret (provider-internals.ts).
      if (!client || !client.clientSecret || !(await client.compareClientSecret(secret))) return undefined;
      return registered(client);
    },

    async createGrant(accountId, clientId) {
      const grant = new (current().Grant)({ accountId, clientId });
      grant.addOIDCScope('openid');
      return grant.save();
    },

    async extendGrant(grantId, accountId, clientId, additions: GrantAdditions) {
      const provider = current();
      const grant = (grantId ? await provider.Grant.find(grantId) : undefined) ?? new provider.Grant({ accountId, clientId });
      if (additions.scopes?.length) grant.addOIDCScope(additions.scopes.join(' '));
      if (additions.claims?.length) grant.addOIDCClaims(additions.claims);
      for (const [indicator, scopes] of Object.entries(additions.resourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
      return grant.save();
    },

    async revokeGrant(grantId) {
      const provider = current();
      await provider.AccessToken.revokeByGrantId(grantId);
      const grant = await provider.Grant.find(grantId);
      await grant?.destroy();
    },

    async interactionDetails(req, res): Promise<InteractionDetails> {
      const details = await current().interactionDetails(req, res);
      return {
        uid: details.uid,
        prompt: { name: details.prompt.name, details: { ...(details.prompt.details as Record<string, unknown>) } },
        params: { ...(details.params as Record<string, unknown>) },
        ...(details.session?.accountId ? { sessionAccountId: details.session.accountId } : {}),
        ...(details.grantId ? { grantId: details.grantId } : {}),
      };
    },

    finishInteraction(req, res, outcome: InteractionOutcome) {
      return current().interactionResult(req, res, outcome as InteractionResults, { mergeWithLastSubmission: false });
    },
  };
}

/** Issues exchanged tokens with oidc-provider's own models, so formats, keys and storage stay its. */
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { TokenIssuer } from '../../token-exchange/ports.js';
import { tokenReference } from '../oidc/token-audit.js';

export function oidcTokenIssuer(ctx: KoaContextWithOIDC): TokenIssuer {
  const { provider } = ctx.oidc;
  return {
    async prepareAccessToken(input) {
      const client = await provider.Client.find(input.clientId);
      if (!client) throw new Error(`client ${input.clientId} vanished during the exchange`);
      const jwt = input.target.format === 'jwt';
      const resourceServer = new provider.ResourceServer(input.target.identifier, {
        audience: input.target.identifier,
        scope: input.target.scopes.join(' '),
        accessTokenTTL: input.expiresIn,
        accessTokenFormat: input.target.format,
        ...(jwt ? { jwt: { sign: { alg: 'ES256' } } } : {}),
      });
      const token = new provider.AccessToken({
        accountId: input.accountId,
        client,
        grantId: input.grantId,
        gty: 'token_exchange',
        scope: input.scope.join(' '),
        extra: input.claims,
        resourceServer,
        expiresIn: input.expiresIn,
      } as never);
      return {
        jti: token.jti,
        format: input.target.format,
        reference: jwt ? token.jti : tokenReference(token.jti),
        expiresIn: input.expiresIn,
        commit: () => token.save(),
      };
    },

    async issueIdToken(input) {
      const client = await provider.Client.find(input.clientId);
      if (!client) throw new Error(`client ${input.clientId} vanished during the exchange`);
      const token = new provider.IdToken({ sub: input.accountId }, { ctx, client });
      (token as unknown as { scope: string }).scope = 'openid';
      for (const [claim, value] of Object.entries(input.claims)) token.set(claim, value);
      return token.issue({ use: 'idtoken', expiresAt: Math.floor(Date.now() / 1000) + input.expiresIn });
    },
  };
}

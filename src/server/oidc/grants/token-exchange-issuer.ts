/** Issues exchanged tokens with oidc-provider's own models, so formats, keys and storage stay its. */
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { DelegationIssuer } from '../../../token-exchange/delegation.js';
import type { TokenIssuer } from '../../../token-exchange/ports.js';
import { tokenReference } from '../../../audit/token-reference.js';
import { assignTokenId, withOpenIdScope } from '../provider-internals.js';
import type { StatusClaim, TokenStatusEntry } from '../../token-status/token-status-store.js';

const epoch = () => Math.floor(Date.now() / 1000);

/** Lists a JWT before it is issued (token status list); undefined leaves exchanged JWTs without `status`. */
export type RegisterTokenStatus = (entry: TokenStatusEntry) => Promise<StatusClaim>;

export function oidcTokenIssuer(ctx: KoaContextWithOIDC, registerStatus?: RegisterTokenStatus): TokenIssuer & DelegationIssuer {
  const { provider } = ctx.oidc;
  /** The authenticated client of this request is already loaded: no second look-up for it. */
  const requestingClient = async (clientId: string) => {
    const client = ctx.oidc.client?.clientId === clientId ? ctx.oidc.client : await provider.Client.find(clientId);
    if (!client) throw new Error(`client ${clientId} vanished during the exchange`);
    return client;
  };
  return {
    async prepareAccessToken(input: Parameters<DelegationIssuer['prepareAccessToken']>[0]) {
      const client = await requestingClient(input.clientId);
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
      // RFC 9449 §6: a JWT carries `cnf.jkt`; an opaque token keeps it, and introspection answers `cnf` and `token_type: DPoP`.
      if (input.boundKey) token.setThumbprint('jkt', input.boundKey);
      // The id exists from here on, so the audit record written before commit() can name it.
      assignTokenId(token);
      // Listed with its lineage before the audit record names it: the row is committed before the token exists.
      if (jwt && registerStatus) token.extra = { ...input.claims, status: await registerStatus(statusEntry(token.jti, input)) };
      return {
        jti: token.jti,
        format: input.target.format,
        reference: jwt ? token.jti : tokenReference(token.jti),
        expiresIn: input.expiresIn,
        async commit() {
          if (input.notAfter) {
            // Set at the moment of issue: a second that passed since the policy ran cannot push exp past the cap.
            const iat = epoch();
            token.iat = iat;
            token.exp = Math.min(iat + input.expiresIn, Math.floor(input.notAfter.getTime() / 1000));
          }
          return token.save();
        },
      };
    },

    async issueIdToken(input) {
      const client = await requestingClient(input.clientId);
      const token = withOpenIdScope(new provider.IdToken({ sub: input.accountId }, { ctx, client }));
      for (const [claim, value] of Object.entries(input.claims)) token.set(claim, value);
      return token.issue({ use: 'idtoken', expiresAt: Math.floor(Date.now() / 1000) + input.expiresIn });
    },
  };
}

/** The token's status entry: its grant (or its opaque subject token's), session and the subject token it derives from. */
function statusEntry(jti: string, input: Parameters<DelegationIssuer['prepareAccessToken']>[0]): TokenStatusEntry {
  const parent = input.derivedFrom;
  const lifetime = Date.now() + input.expiresIn * 1000;
  const grantId = input.grantId ?? parent?.grantId;
  return {
    jti,
    clientId: input.clientId,
    subject: input.accountId,
    expiresAt: new Date(input.notAfter ? Math.min(lifetime, input.notAfter.getTime()) : lifetime),
    ...(grantId ? { grantId } : {}),
    ...(input.claims.obo_sid ? { onBehalfSessionId: input.claims.obo_sid } : {}),
    // An opaque token's id is a bearer secret: lineage names it by its reference, as the audit trail does.
    ...(parent ? { parentJti: parent.format === 'jwt' ? parent.jti : tokenReference(parent.jti) } : {}),
  };
}

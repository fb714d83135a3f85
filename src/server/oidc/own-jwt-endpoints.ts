/**
 * Introspection (RFC 7662) and revocation (RFC 7009) of Behalf's own JWT
 * access tokens. oidc-provider authenticates the client and reads the request
 * as for any token, then refuses a JWT with `unsupported_token_type`; this
 * middleware, installed inside oidc-provider's app, answers that one refusal
 * instead (token-status/token-status-service.ts decides what).
 */
import type { KoaContextWithOIDC } from 'oidc-provider';
import { requestMeta } from '../audit-trail/request-meta.js';
import type { Logger } from '../observability/logger.js';
import type { CallingClient } from '../token-status/token-status-service.js';
import { behalfClient } from './client-metadata.js';

export interface OwnJwtHandlers {
  introspect(client: CallingClient, token: string): Promise<Record<string, unknown>>;
  revoke(client: CallingClient, token: string, meta: ReturnType<typeof requestMeta>): Promise<number>;
  /** An opaque token was revoked: the JWTs exchanged from it (and theirs) end too. */
  revokeDerived(client: CallingClient, jti: string, meta: ReturnType<typeof requestMeta>): Promise<number>;
}

export function ownJwtEndpoints(handlers: OwnJwtHandlers, logger: Logger) {
  return async function ownJwts(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
    await next();
    const route = ctx.oidc?.route;
    if (route !== 'introspection' && route !== 'revocation') return;
    const body = ctx.body as { error?: unknown } | undefined;
    const token = ctx.oidc.params?.token;
    const client = ctx.oidc.client;
    if (route === 'revocation' && ctx.status === 200 && client) return revokedOpaque(ctx, client.clientId);
    if (ctx.status !== 400 || body?.error !== 'unsupported_token_type' || typeof token !== 'string' || !client) return;
    const { clientId, resourceServers } = behalfClient(client);
    try {
      if (route === 'introspection') {
        ctx.body = await handlers.introspect({ clientId, resourceServers }, token);
      } else {
        await handlers.revoke({ clientId, resourceServers }, token, requestMeta(ctx));
        ctx.body = '';
      }
      ctx.status = 200;
      ctx.set('Cache-Control', 'no-store');
    } catch (error) {
      // Fail closed: a revocation that could not be recorded did not happen; the client retries.
      logger.error(`JWT ${route} failed`, { error, clientId });
      ctx.status = 503;
      ctx.set('Retry-After', '1');
      ctx.body = { error: 'temporarily_unavailable', error_description: `the ${route} could not be completed right now; try again` };
    }
  };

  /** oidc-provider revoked an opaque token of this client (it names it as an entity only then, or when refusing). */
  async function revokedOpaque(ctx: KoaContextWithOIDC, clientId: string): Promise<void> {
    const entities = ctx.oidc.entities as Record<string, { jti?: string; clientId?: string } | undefined>;
    const token = entities.AccessToken ?? entities.ClientCredentials;
    if (!token?.jti || token.clientId !== clientId) return;
    try {
      await handlers.revokeDerived({ clientId, resourceServers: [] }, token.jti, requestMeta(ctx));
    } catch (error) {
      logger.error('tokens derived from a revoked opaque token could not be revoked', { error, clientId });
      ctx.status = 503;
      ctx.set('Retry-After', '1');
      ctx.body = { error: 'temporarily_unavailable', error_description: 'the revocation could not be completed right now; try again' };
    }
  }
}

/**
 * `scope` in token responses, RFC 6749 §5.1: "OPTIONAL, if identical to the
 * scope requested by the client; otherwise, REQUIRED" (and §3.3: "If the issued
 * access token scope is different from the one requested by the client, the
 * authorization server MUST include the "scope" response parameter").
 *
 * The rule here: a response whose access token carries a scope names exactly
 * that (granted) scope, whether or not it differs from the request; it never
 * names an empty one (§3.3: a scope is one or more scope tokens). oidc-provider
 * drops requested scopes it cannot grant (unknown ones, resource scopes without
 * a resource, scopes the resource server does not define) without an error; when
 * that leaves nothing of what the token request asked for, there is no way to
 * say so in a scope, so the request is refused with `invalid_scope` (§5.2) and
 * the token it stored is destroyed.
 *
 * Runs inside oidc-provider's Koa app (after the token endpoint built its
 * response), inside the `token.issued` audit, which then records the final
 * answer. The token exchange builds its own response with the granted scope.
 */
import type { KoaContextWithOIDC } from 'oidc-provider';
import { GRANT_TYPE as TOKEN_EXCHANGE } from '../../token-exchange/types.js';

interface ScopedToken {
  scope?: string;
  destroy?: () => Promise<void>;
}

function scopeList(value: unknown): string[] {
  return typeof value === 'string' ? value.split(' ').filter(Boolean) : [];
}

export function tokenResponseScope() {
  return async function grantedScopeInTokenResponse(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
    await next();
    if (ctx.oidc?.route !== 'token' || ctx.status !== 200) return;
    if (ctx.oidc.params?.grant_type === TOKEN_EXCHANGE) return;
    const body = ctx.body as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object' || typeof body.access_token !== 'string') return;
    const entities = ctx.oidc.entities as Record<string, ScopedToken | undefined>;
    const token = entities.AccessToken ?? entities.ClientCredentials;
    if (!token) return;

    const granted = scopeList(token.scope);
    if (granted.length) {
      body.scope = granted.join(' ');
      return;
    }
    delete body.scope;
    // The scope as the client sent it (oidc-provider narrows `params.scope` in place).
    const requested = scopeList((ctx.oidc.body as Record<string, unknown> | undefined)?.scope);
    if (!requested.length) return;
    for (const name of ['AccessToken', 'ClientCredentials', 'RefreshToken']) await entities[name]?.destroy?.().catch(() => undefined);
    const resource = ctx.oidc.params?.resource;
    ctx.status = 400;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      error: 'invalid_scope',
      error_description: `none of the requested scopes (${requested.join(' ').slice(0, 200)}) can be granted ${
        typeof resource === 'string' ? `for ${resource.slice(0, 200)}` : 'without a resource'
      }`,
    };
  };
}

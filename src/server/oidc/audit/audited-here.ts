/**
 * Marks a request whose outcome its handler already recorded in the audit
 * trail (the token-exchange grant writes its own records in its own
 * transaction), so the provider-level audit does not record it twice. Kept on
 * the request's own context, as oidc-provider keeps what a request produced.
 */
import type { KoaContextWithOIDC } from 'oidc-provider';

const AUDITED = 'BehalfAudited';

export function markAudited(ctx: KoaContextWithOIDC): void {
  ctx.oidc.entity(AUDITED, true);
}

export function wasAudited(ctx: KoaContextWithOIDC): boolean {
  return (ctx.oidc.entities as Record<string, unknown>)[AUDITED] === true;
}

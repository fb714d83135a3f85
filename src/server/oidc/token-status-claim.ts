/**
 * Puts the `status` claim (draft-ietf-oauth-status-list-21 §6.2) into every
 * JWT access token oidc-provider signs, registering the token first: its row
 * is committed before the token exists (fail closed). Tokens from the token
 * exchange arrive with the claim already set (registered with their lineage
 * by grants/token-exchange-issuer.ts) and are left as they are.
 */
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { StatusClaim, TokenStatusEntry } from '../token-status/token-status-store.js';

type JwtParts = { payload: Record<string, unknown> };

export function statusClaimCustomizer(register: (entry: TokenStatusEntry) => Promise<StatusClaim>) {
  return async function addStatusClaim(_ctx: KoaContextWithOIDC, token: object, parts: JwtParts): Promise<void> {
    const { payload } = parts;
    const { grantId } = token as { grantId?: string };
    if (payload.status !== undefined) return;
    payload.status = await register({
      jti: String(payload.jti),
      clientId: String(payload.client_id),
      subject: String(payload.sub),
      expiresAt: new Date(Number(payload.exp) * 1000),
      ...(grantId ? { grantId } : {}),
      ...(typeof payload.obo_sid === 'string' ? { onBehalfSessionId: payload.obo_sid } : {}),
    });
  };
}

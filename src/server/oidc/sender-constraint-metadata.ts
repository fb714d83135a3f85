/**
 * Client metadata for sender-constrained tokens (RFC 9449, DPoP) and pushed
 * authorization requests (RFC 9126, PAR) beyond the standard ones, which
 * oidc-provider handles itself: `dpop_bound_access_tokens` (RFC 9449 §5.2:
 * every token request must carry a DPoP proof) and
 * `require_pushed_authorization_requests` (RFC 9126 §6: every authorization
 * request must be pushed).
 *
 * Behalf's narrower ones, for a storefront whose customers' own sign-ins stay
 * as they are while its login-on-behalf requests are held to more:
 * - `behalf_require_dpop_on_behalf`: every login-on-behalf exchange must carry
 *   a DPoP proof, so each on-behalf token is bound to the storefront's key;
 * - `behalf_require_par_on_behalf`: an authorization request naming
 *   `on_behalf_of` must be pushed (PAR), so the customer's id and the fact of
 *   the re-authentication never appear in a browser URL.
 */
import type { SenderConstraintPolicy } from '../../token-exchange/sender-constraint.js';

export const REQUIRE_DPOP_ON_BEHALF = 'behalf_require_dpop_on_behalf';
export const REQUIRE_PAR_ON_BEHALF = 'behalf_require_par_on_behalf';

/** Why a value of one of these properties is invalid, or undefined when it is fine (absent or a boolean). */
export function booleanPropertyProblem(key: string, value: unknown): string | undefined {
  return value === undefined || typeof value === 'boolean' ? undefined : `${key} must be a boolean`;
}

/** The client's DPoP policy for the token exchange. */
export function senderConstraintPolicy(metadata: Record<string, unknown>): SenderConstraintPolicy {
  return { always: metadata.dpop_bound_access_tokens === true, onBehalf: metadata[REQUIRE_DPOP_ON_BEHALF] === true };
}

/** Whether this client's login-on-behalf authorization requests must be pushed (its own rule or the standard one). */
export function parRequiredOnBehalf(metadata: Record<string, unknown>): boolean {
  return metadata[REQUIRE_PAR_ON_BEHALF] === true || metadata.require_pushed_authorization_requests === true;
}

/**
 * Sender-constrained exchange results (RFC 9449, DPoP). Pure rules; the
 * server validates the proof itself (signature, `htm`/`htu`, `iat`, replay)
 * before the flows run and hands over only the proven key's thumbprint.
 *
 * - A request with a valid proof gets a token bound to that key (`cnf.jkt`,
 *   `token_type: DPoP`), RFC 9449 §5.
 * - A client whose metadata says so must send a proof: `dpop_bound_access_tokens`
 *   (§5.2, every exchange) or Behalf's `behalf_require_dpop_on_behalf` (login on behalf).
 * - A DPoP-bound actor token is presented by its holder (the requesting client),
 *   so the proof must be made with the key it is bound to, as for a bound
 *   refresh token (§5, §5.0).
 * - A DPoP-bound subject token is presented by its audience (RFC 8693 §1.1),
 *   which does not hold its key: the key is not asked for, but the result must
 *   be bound too (to the requesting client's own proof key), so an exchange
 *   never turns a sender-constrained token into a bearer token.
 */
import { invalidDpopProof, invalidRequest } from './errors.js';
import type { PresentedToken } from './ports.js';

/** What the request proved: the RFC 7638 thumbprint of the DPoP proof's public key. */
export interface ProofOfPossession {
  jkt: string;
}

/** The client's DPoP policy, from its metadata. */
export interface SenderConstraintPolicy {
  /** RFC 9449 §5.2 `dpop_bound_access_tokens`: every token request must carry a proof. */
  always: boolean;
  /** `behalf_require_dpop_on_behalf`: login-on-behalf exchanges must carry a proof. */
  onBehalf: boolean;
}

export const NO_SENDER_CONSTRAINT: SenderConstraintPolicy = { always: false, onBehalf: false };

/** The proof the request must carry before the flow may issue anything (checked before any token is read). */
export function checkProofRequired(
  mode: 'on_behalf' | 'delegation',
  policy: SenderConstraintPolicy,
  proof: ProofOfPossession | undefined,
): void {
  if (proof) return;
  if (policy.always)
    throw invalidRequest(
      'this client must prove possession of a key with a DPoP proof (RFC 9449 §5.2, dpop_bound_access_tokens): send a DPoP header',
      'dpop_required',
    );
  if (mode === 'on_behalf' && policy.onBehalf)
    throw invalidRequest(
      'this client must bind login-on-behalf tokens to its key: send a DPoP proof (RFC 9449) with the exchange',
      'dpop_required_on_behalf',
    );
}

/** The actor and subject tokens' own bindings (each token's `cnf.jkt`, if bound). */
export function checkPresentedBindings(
  proof: ProofOfPossession | undefined,
  tokens: { actor?: Pick<PresentedToken, 'boundKey'>; subject?: Pick<PresentedToken, 'boundKey'> },
): void {
  const actorKey = tokens.actor?.boundKey;
  if (actorKey) {
    if (!proof)
      throw invalidRequest(
        'actor_token is DPoP-bound (RFC 9449): send a DPoP proof made with the key it is bound to',
        'actor_token_needs_proof',
      );
    if (proof.jkt !== actorKey)
      throw invalidDpopProof('the DPoP proof was not made with the key actor_token is bound to', 'actor_token_key_mismatch');
  }
  if (tokens.subject?.boundKey && !proof)
    throw invalidRequest(
      'subject_token is DPoP-bound (RFC 9449): the exchange must be DPoP-bound too; send a DPoP proof of your own key',
      'bound_subject_needs_proof',
    );
}

/** RFC 9449 §5: "token_type": "DPoP" for a bound token, else Bearer. */
export function tokenTypeFor(proof: ProofOfPossession | undefined): 'DPoP' | 'Bearer' {
  return proof ? 'DPoP' : 'Bearer';
}

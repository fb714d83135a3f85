/**
 * Why the kit refused a request. `missing_token` (no credentials, or not
 * Bearer ones) carries no RFC 6750 error code, as §3.1 asks. The
 * `*_unverifiable` codes mean Behalf (its JWKS, introspection or session
 * status) could not be asked: the request is refused with 503 (fail closed)
 * and the client may retry with the same token.
 */
export type KitErrorCode =
  | 'missing_token'
  | 'invalid_token'
  | 'token_expired'
  | 'token_revoked'
  | 'wrong_audience'
  | 'token_unverifiable'
  | 'insufficient_scope'
  | 'session_ended'
  | 'session_unverifiable'
  | 'on_behalf_forbidden'
  /** RFC 9449 §7.1: the DPoP proof is missing, malformed, for another request, or replayed. */
  | 'invalid_dpop_proof';

const HTTP: Record<
  KitErrorCode,
  { status: number; oauth: 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'invalid_dpop_proof' | undefined }
> = {
  missing_token: { status: 401, oauth: undefined },
  invalid_token: { status: 401, oauth: 'invalid_token' },
  token_expired: { status: 401, oauth: 'invalid_token' },
  token_revoked: { status: 401, oauth: 'invalid_token' },
  wrong_audience: { status: 401, oauth: 'invalid_token' },
  token_unverifiable: { status: 503, oauth: undefined },
  session_ended: { status: 401, oauth: 'invalid_token' },
  session_unverifiable: { status: 503, oauth: undefined },
  insufficient_scope: { status: 403, oauth: 'insufficient_scope' },
  on_behalf_forbidden: { status: 403, oauth: undefined },
  invalid_dpop_proof: { status: 401, oauth: 'invalid_dpop_proof' },
};

/**
 * An error the kit raises, with a stable `code` callers can switch on, the
 * HTTP status and the RFC 6750 §3.1 error to put in WWW-Authenticate.
 *
 * @example
 * try {
 *   await verify(token);
 * } catch (error) {
 *   if (error instanceof KitError && error.code === 'token_expired') return refreshAndRetry();
 *   throw error;
 * }
 */
export class KitError extends Error {
  override name = 'KitError';
  readonly status: number;
  readonly oauthError: string | undefined;

  constructor(
    readonly code: KitErrorCode,
    message: string,
    /** The authentication scheme of the challenge (RFC 9449 §7.1: DPoP for a bound token or a DPoP request). */
    readonly scheme: 'Bearer' | 'DPoP' = 'Bearer',
  ) {
    super(message);
    this.status = HTTP[code].status;
    this.oauthError = HTTP[code].oauth;
  }
}

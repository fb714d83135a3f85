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
  | 'on_behalf_forbidden';

const HTTP: Record<KitErrorCode, { status: number; oauth: 'invalid_request' | 'invalid_token' | 'insufficient_scope' | undefined }> = {
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
  ) {
    super(message);
    this.status = HTTP[code].status;
    this.oauthError = HTTP[code].oauth;
  }
}

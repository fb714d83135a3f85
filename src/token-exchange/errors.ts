/**
 * Token-exchange refusals as RFC 6749 §5.2 / RFC 8693 §2.2.2 errors. Each
 * carries a description that tells the caller what to fix, and a short
 * machine reason for the audit trail. The server maps these onto its OIDC
 * library's error type at the edge.
 */
export type ExchangeErrorCode =
  | 'invalid_request'
  | 'invalid_target'
  | 'invalid_scope'
  | 'unauthorized_client'
  | 'invalid_client'
  /** RFC 9449 §5: the DPoP proof is missing where it must be, or is not the key the request needs. */
  | 'invalid_dpop_proof';

export class TokenExchangeError extends Error {
  override name = 'TokenExchangeError';

  constructor(
    readonly code: ExchangeErrorCode,
    readonly description: string,
    /** Stable, short: what the audit trail records as the reason. */
    readonly reason: string = code,
  ) {
    super(description);
  }
}

export const invalidRequest = (description: string, reason: string) => new TokenExchangeError('invalid_request', description, reason);
export const invalidTarget = (description: string, reason = 'invalid_target') =>
  new TokenExchangeError('invalid_target', description, reason);
export const invalidScope = (description: string, reason = 'invalid_scope') => new TokenExchangeError('invalid_scope', description, reason);
export const unauthorizedClient = (description: string, reason = 'unauthorized_client') =>
  new TokenExchangeError('unauthorized_client', description, reason);
export const invalidDpopProof = (description: string, reason: string) => new TokenExchangeError('invalid_dpop_proof', description, reason);

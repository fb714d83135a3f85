/**
 * Koa middleware: `requireAuth` turns a Bearer token into a principal (or an
 * RFC 6750 error), and `forbidOnBehalf` guards operations a support agent must
 * never perform as a customer (password, email, second factor, payment
 * methods, account deletion).
 */
import type { Context, Next } from 'koa';
import { currentPrincipal, runWithPrincipal } from './context.js';
import { KitError } from './errors.js';
import { DEFAULT_DPOP_ALGORITHMS, type Presentation } from './dpop.js';
import { toPrincipal, type Principal } from './principal.js';
import type { SessionStatusChecker } from './session-status.js';
import type { AccessTokenVerifier } from './verify.js';

declare module 'koa' {
  interface DefaultState {
    principal?: Principal;
  }
}

export interface RequireAuthOptions {
  verifier: AccessTokenVerifier;
  /** Every one of these scopes is required. */
  scopes?: string[];
  /** Checks on-behalf tokens against Behalf's session status (recommended whenever tokens are JWTs). */
  sessionStatus?: SessionStatusChecker;
  realm?: string;
}

function quoted(value: string): string {
  return value.replace(/["\\]/g, '');
}

/**
 * Writes a kit error as an RFC 6750 response (use it when verifying by hand).
 *
 * @example
 * try {
 *   ctx.state.principal = toPrincipal(await verifier(token));
 * } catch (error) {
 *   if (error instanceof KitError) return respondWithKitError(ctx, error);
 *   throw error;
 * }
 */
export function respondWithKitError(ctx: Context, error: KitError, realm = 'api', scopes?: string[]): void {
  ctx.status = error.status;
  const params = [`realm="${quoted(realm)}"`];
  if (error.oauthError) params.push(`error="${error.oauthError}"`, `error_description="${quoted(error.message)}"`);
  if (error.code === 'insufficient_scope' && scopes?.length) params.push(`scope="${quoted(scopes.join(' '))}"`);
  // RFC 9449 §7.1: a DPoP challenge names the proof algorithms accepted.
  if (error.scheme === 'DPoP') params.push(`algs="${DEFAULT_DPOP_ALGORITHMS.join(' ')}"`);
  if (error.status === 401 || error.oauthError) ctx.set('WWW-Authenticate', `${error.scheme} ${params.join(', ')}`);
  if (error.status === 503) ctx.set('Retry-After', '1');
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { error: error.oauthError ?? error.code, error_description: error.message };
}

/**
 * Verifies the Bearer token, checks an on-behalf token's session (when
 * `sessionStatus` is given) and the scopes, then runs the rest of the request
 * with the principal in `ctx.state.principal` and in `currentPrincipal()`.
 * Refusals are RFC 6750 answers: 401 (no or bad token, ended session), 403
 * `insufficient_scope` with the scopes needed, 503 when Behalf cannot be asked.
 *
 * @example
 * router.get('/orders', requireAuth({ verifier, scopes: ['orders:read'], sessionStatus }), listOrders);
 */
export function requireAuth(options: RequireAuthOptions) {
  const realm = options.realm ?? 'api';
  return async function authenticate(ctx: Context, next: Next): Promise<void> {
    let principal: Principal;
    try {
      const header = ctx.get('authorization').trim();
      // RFC 6750 §3.1: no credentials, or another scheme (Basic…), gets a challenge without an error code.
      if (!/^(Bearer|DPoP)(\s|$)/i.test(header))
        throw new KitError(
          'missing_token',
          header ? 'this API takes Bearer (RFC 6750) or DPoP (RFC 9449) access tokens' : 'an access token is required',
        );
      const match = /^(Bearer|DPoP) +([A-Za-z0-9._~+/-]+=*)$/i.exec(header);
      if (!match) throw new KitError('invalid_token', 'the Authorization header must be "Bearer <token>" or "DPoP <token>"');
      principal = toPrincipal(await options.verifier(match[2]!, presentation(ctx, match[1]!)));
      if (principal.onBehalfSessionId && options.sessionStatus) await options.sessionStatus.assertActive(principal.onBehalfSessionId);
      const missing = (options.scopes ?? []).filter((scope) => !principal.scopes.includes(scope));
      if (missing.length) throw new KitError('insufficient_scope', `this request needs the scope ${missing.join(' ')}`);
    } catch (error) {
      if (error instanceof KitError) return respondWithKitError(ctx, error, realm, options.scopes);
      throw error;
    }
    ctx.state.principal = principal;
    await runWithPrincipal(principal, next);
  };
}

/** How the token arrived, for the DPoP check (RFC 9449 §7.1): scheme, proofs, method and URL. */
function presentation(ctx: Context, scheme: string): Presentation {
  const proofs = ctx.req.headersDistinct?.dpop ?? [];
  return { scheme: scheme.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer', proofs, method: ctx.method, url: ctx.href };
}

/**
 * Refuses the route while someone acts on behalf of the subject: 403 with
 * `error: "on_behalf_forbidden"`. Mount it after `requireAuth`; without a
 * principal it throws (a wiring mistake must not open the route).
 *
 * @example
 * router.put('/payment-methods', requireAuth(auth), forbidOnBehalf('changing payment methods'), updatePaymentMethods);
 */
export function forbidOnBehalf(operation = 'this operation') {
  return async function refuseOnBehalf(ctx: Context, next: Next): Promise<void> {
    const principal = ctx.state.principal ?? currentPrincipal();
    // Fail closed: mounted without (or before) requireAuth, the guard cannot know who acts.
    if (!principal) throw new Error('forbidOnBehalf must run after requireAuth: there is no principal to check');
    if (principal.onBehalf) {
      return respondWithKitError(
        ctx,
        new KitError(
          'on_behalf_forbidden',
          `${operation} is not allowed while acting on behalf of a customer; the customer must do it themselves`,
        ),
      );
    }
    await next();
  };
}

/**
 * The HTTP edge: one JSON error shape, strict CORS, security headers. Bad
 * input always ends as a 4xx with a sentence saying why; only our own
 * faults are 500s, and those say nothing about internals.
 */
import type { Context, Next } from 'koa';

export class HttpError extends Error {
  override name = 'HttpError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const badRequest = (message: string) => new HttpError(400, 'invalid_request', message);
export const notFound = (what: string) => new HttpError(404, 'not_found', `no such ${what}`);

/**
 * Errors thrown by the body parser and the router carry a 4xx `status`:
 * http-errors ones (raw-body, router) with `expose`, co-body's JSON parse
 * failure as a plain SyntaxError with `status = 400` and no `expose`.
 */
function clientError(error: unknown, maxBodyBytes: number): HttpError | undefined {
  if (error instanceof HttpError) return error;
  // Two requests racing for the same row (a unique index, a deadlock): the loser may simply retry.
  const driverCode = (error as { driverError?: { code?: unknown } } | undefined)?.driverError?.code;
  if (driverCode === '23505' || driverCode === '40001' || driverCode === '40P01')
    return new HttpError(409, 'conflict', 'a concurrent request changed the same data; try again');
  const { status, expose } = (error ?? {}) as { status?: unknown; expose?: unknown };
  if (typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  if (status === 400 && error instanceof SyntaxError) return badRequest('the request body is not valid JSON (an object is expected)');
  if (expose !== true) return undefined;
  if (status === 413) return new HttpError(413, 'payload_too_large', `the request body is larger than ${maxBodyBytes} bytes`);
  if (status === 415) return new HttpError(415, 'unsupported_media_type', 'send JSON encoded as UTF-8');
  if (status === 400) return badRequest('the request body could not be read');
  if (status === 404) return new HttpError(404, 'not_found', 'no such endpoint');
  if (status === 405) return new HttpError(405, 'method_not_allowed', 'this endpoint does not take that method');
  return new HttpError(status, 'invalid_request', 'the request was refused');
}

export function errorHandler(maxBodyBytes: number, onError: (error: unknown, ctx: Context) => void) {
  return async function handleErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new HttpError(404, 'not_found', 'no such endpoint');
    } catch (error) {
      const known = clientError(error, maxBodyBytes);
      if (!known) onError(error, ctx);
      const out = known ?? new HttpError(500, 'server_error', 'something went wrong on our side; nothing was changed');
      ctx.status = out.status;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { error: out.code, error_description: out.message };
    }
  };
}

/**
 * Minimal strict CORS for the storefront's browser calls: exact origins only,
 * Bearer tokens (never cookies, so no Allow-Credentials), JSON bodies.
 * A preflight from anywhere else is refused outright.
 */
export function strictCors(allowedOrigins: string[]) {
  const allowed = new Set(allowedOrigins);
  return async function cors(ctx: Context, next: Next): Promise<void> {
    ctx.vary('Origin');
    const origin = ctx.get('origin');
    const permitted = origin !== '' && allowed.has(origin);
    if (ctx.method === 'OPTIONS' && ctx.get('access-control-request-method')) {
      ctx.status = permitted ? 204 : 403;
      if (permitted) {
        ctx.set('Access-Control-Allow-Origin', origin);
        ctx.set('Access-Control-Allow-Methods', 'GET, POST, PUT, DELETE');
        ctx.set('Access-Control-Allow-Headers', 'Authorization, Content-Type');
        ctx.set('Access-Control-Max-Age', '600');
      }
      return;
    }
    if (permitted) {
      ctx.set('Access-Control-Allow-Origin', origin);
      // Lets the storefront read why a call was refused (RFC 6750 error, insufficient_scope, …).
      ctx.set('Access-Control-Expose-Headers', 'WWW-Authenticate');
    }
    await next();
  };
}

/** An API's answers are per-user data: never cached, never sniffed, never framed. */
export async function apiHeaders(ctx: Context, next: Next): Promise<void> {
  ctx.set('Cache-Control', 'no-store');
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
  ctx.set('Referrer-Policy', 'no-referrer');
  await next();
}

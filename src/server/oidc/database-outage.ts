/**
 * oidc-provider turns any error thrown by its adapter (the client lookup, a
 * grant or token read) into a 500 `server_error`. When the cause is the
 * database being unreachable, that is an outage the client should retry, not a
 * bug: answer 503 `temporarily_unavailable` with Retry-After instead (RFC 6749
 * §5.2 / §4.1.2.1), the same answer the rate limiter and the fail-closed audit
 * give during an outage. Nothing was issued: the request failed before it.
 */
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';

/** Connection-level failures: node errors, PostgreSQL class 08 and shutdown codes, pg's pool messages. */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
]);
const UNAVAILABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection is not established|connect ECONNREFUSED|the database system is (starting up|shutting down)/i;

export function isDatabaseUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current = error as { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown; errors?: unknown[] } | undefined;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    if (typeof current.code === 'string' && UNAVAILABLE_CODES.has(current.code)) return true;
    if (typeof current.message === 'string' && UNAVAILABLE_MESSAGES.test(current.message)) return true;
    if (Array.isArray(current.errors) && current.errors.some((inner) => isDatabaseUnavailable(inner))) return true;
    current = (current.driverError ?? current.cause) as typeof current;
  }
  return false;
}

const RETRY_AFTER_SECONDS = '5';
const UNAVAILABLE = { error: 'temporarily_unavailable', error_description: 'the service is temporarily unavailable; try again' } as const;

/** The outage answer for Behalf's own JSON endpoints (client authentication, the last-resort handler). */
export function answerTemporarilyUnavailable(ctx: Context): void {
  ctx.status = 503;
  ctx.set('Retry-After', RETRY_AFTER_SECONDS);
  ctx.set('Cache-Control', 'no-store');
  ctx.type = 'json';
  ctx.body = { ...UNAVAILABLE };
}

/** Requests whose server_error was the database being unreachable. */
const outages = new WeakSet<object>();

/** Call for every provider instance (the holder rebuilds it on key rotation). */
export function watchDatabaseOutages(provider: Provider): void {
  provider.on('server_error', (ctx, error) => {
    if (isDatabaseUnavailable(error)) outages.add(ctx);
  });
}

export function databaseOutageMiddleware() {
  return async function databaseOutageAs503(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
    await next();
    if (ctx.status !== 500 || !outages.has(ctx)) return;
    ctx.status = 503;
    ctx.set('Retry-After', RETRY_AFTER_SECONDS);
    ctx.set('Cache-Control', 'no-store');
    // JSON endpoints get an OAuth error; HTML pages keep oidc-provider's error page, now with a 503.
    if (ctx.body && typeof ctx.body === 'object' && !Buffer.isBuffer(ctx.body) && 'error' in ctx.body) {
      ctx.body = { ...UNAVAILABLE };
    }
  };
}

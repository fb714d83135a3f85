/** Request id, access log, metrics and the last-resort error handler: the outermost middleware. */
import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import { requestContext, type Logger } from '../observability/logger.js';
import { routeGroup, type Metrics } from '../observability/metrics.js';
import { withReadAhead } from '../oidc/read-ahead.js';
import { answerTemporarilyUnavailable, isDatabaseUnavailable } from '../oidc/database-outage.js';
import { onceEvery } from '../observability/once-every.js';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

export function requestContextMiddleware(logger: Logger, metrics: Metrics) {
  // An outage is a line every few seconds, not one per request.
  const outageLogged = onceEvery(10_000, (failed: number, error: unknown) =>
    logger.warn('database unreachable: requests answered with 503', {
      event: 'db.unreachable',
      failed,
      error: error instanceof Error ? error.message : String(error),
    }),
  );
  return async function requestContextAndLog(ctx: Context, next: Next) {
    const incoming = ctx.get('x-request-id');
    const requestId = REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.set('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    const route = routeGroup(ctx.path);
    await requestContext.run({ requestId }, async () => {
      try {
        await withReadAhead(next);
      } catch (error) {
        // The database being unreachable is an outage to retry (as at oidc-provider's endpoints), not a bug.
        if (isDatabaseUnavailable(error)) {
          answerTemporarilyUnavailable(ctx);
          outageLogged(error);
          return;
        }
        // Never a stack trace to the client; the detail goes to the log.
        // A client error keeps its 4xx even when it is not marked `expose`: a body parser's
        // SyntaxError for malformed JSON carries status 400 but no `expose`, and became a 500
        // (found by test/integration/hostile-input.property.test.ts). Its message is only
        // shown when exposed; otherwise a generic one.
        const { status: raw, expose } = error as { status?: number; expose?: boolean };
        const status = typeof raw === 'number' && raw >= 400 && raw < 500 ? raw : expose && typeof raw === 'number' ? raw : 500;
        ctx.status = status;
        ctx.type = 'json';
        ctx.body =
          status >= 500
            ? { error: 'server_error', error_description: 'An unexpected error occurred; it has been logged.' }
            : { error: 'invalid_request', error_description: expose ? (error as Error).message : 'the request could not be read' };
        if (status >= 500) logger.error('unhandled error', { error, path: ctx.path, method: ctx.method });
      } finally {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        // The provider answers on the raw response; read the status from there.
        const statusCode = ctx.respond === false ? ctx.res.statusCode : ctx.status;
        metrics.httpRequests.inc({ method: ctx.method, route, status: String(statusCode) });
        metrics.httpDuration.observe({ method: ctx.method, route }, seconds);
        // winston formats an entry before its transports drop it by level: skip the work when nothing logs it.
        if (logger.isLevelEnabled('http'))
          logger.http('request', { method: ctx.method, path: ctx.path, status: statusCode, ms: Math.round(seconds * 1000) });
      }
    });
  };
}

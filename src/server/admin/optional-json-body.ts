/**
 * Request bodies for the people API, where a body may be absent (unlock, enable): JSON when
 * present, size-limited; a malformed body is a 400 JSON error, not a 500.
 */
import { bodyParser } from '@koa/bodyparser';
import type { Context, Next } from 'koa';

export function badRequest(ctx: Context, description: string, field?: string): void {
  ctx.status = 400;
  ctx.body = { error: 'invalid_request', error_description: description, ...(field ? { field } : {}) };
}

export function optionalJsonBody(maxBytes: number) {
  const parse = bodyParser({
    enableTypes: ['json'],
    parsedMethods: ['POST', 'PUT', 'PATCH', 'DELETE'],
    jsonLimit: `${maxBytes}b`,
    jsonStrict: true,
    encoding: 'utf-8',
  });
  return async function adminJsonBody(ctx: Context, next: Next): Promise<void> {
    try {
      await parse(ctx, async () => undefined);
    } catch (error) {
      const status = (error as { status?: number }).status ?? 400;
      ctx.status = status === 413 ? 413 : 400;
      ctx.body = {
        error: 'invalid_request',
        error_description: status === 413 ? 'the request body is too large' : 'the body must be JSON',
      };
      return;
    }
    const body = ctx.request.body;
    if (body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body)))
      return badRequest(ctx, 'the body must be a JSON object');
    await next();
  };
}

/** The body as a record (empty when there was none). */
export function bodyOf(ctx: Context): Record<string, unknown> {
  return (ctx.request.body as Record<string, unknown> | undefined) ?? {};
}

/** An optional reason an admin gives for a change: trimmed text of at most 500 characters. */
export function reasonOf(ctx: Context, required: boolean): string | null | Error {
  const value = bodyOf(ctx).reason;
  if (value === undefined || value === null || value === '') return required ? new Error('a reason is required') : null;
  if (typeof value !== 'string' || value.includes('\u0000')) return new Error('reason must be text');
  const reason = value.trim();
  if (!reason) return required ? new Error('a reason is required') : null;
  if (reason.length > 500) return new Error('reason must be at most 500 characters');
  return reason;
}

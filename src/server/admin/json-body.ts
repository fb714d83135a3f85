/** JSON bodies for the admin API: size-limited, an object, and errors as 400 JSON (never a 500). */
import { bodyParser } from '@koa/bodyparser';
import type { Context, Next } from 'koa';
import type { ChangeActor } from '../clients/client-changes.js';
import { requestMeta } from '../audit-trail/request-meta.js';

export function jsonBody(maxBodyBytes: number) {
  const parse = bodyParser({ enableTypes: ['json'], jsonLimit: `${maxBodyBytes}b`, jsonStrict: true, encoding: 'utf-8' });
  return async function parseJsonObject(ctx: Context, next: Next): Promise<void> {
    if (!ctx.is('application/json')) return answer(ctx, 415, 'invalid_request', 'send the body as application/json');
    await parse(ctx, async () => {
      const body = ctx.request.body as unknown;
      if (!body || typeof body !== 'object' || Array.isArray(body))
        return answer(ctx, 400, 'invalid_request', 'the request body must be a JSON object');
      await next();
    });
  };
}

export function answer(ctx: Context, status: number, error: string, description: string): void {
  ctx.status = status;
  ctx.body = { error, error_description: description };
}

export const STATUS_OF = { invalid_client_metadata: 400, invalid_request: 400, not_found: 404, conflict: 409 } as const;

/** The admin making the change, as the audit trail names them. */
export function adminActor(ctx: Context): ChangeActor {
  const admin = ctx.state.staff!;
  return { actor: admin.account.id, ...requestMeta(ctx), details: { via_client: admin.clientId } };
}

export async function noStore(ctx: Context, next: Next): Promise<void> {
  ctx.set('Cache-Control', 'no-store');
  await next();
}

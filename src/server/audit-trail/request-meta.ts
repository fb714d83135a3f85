/** Who is calling, as far as the audit trail is concerned. */
import type { Context } from 'koa';

export interface RequestMeta {
  ip: string | null;
  userAgent: string | null;
}

export function requestMeta(ctx: Pick<Context, 'ip' | 'get'>): RequestMeta {
  return { ip: ctx.ip || null, userAgent: ctx.get('user-agent') || null };
}

/**
 * Brute-force limits on Behalf's sign-in forms: per client IP and per account
 * name. Over the limit the form is not even checked: a 429 page with
 * Retry-After, and the attempt is audited.
 */
import type { Context } from 'koa';
import type { AuditService } from '../audit/audit-service.js';
import { requestMeta } from '../audit/request-meta.js';
import { recordedUsername } from '../audit/recorded-username.js';
import type { RateLimits } from '../http/rate-limits.js';

export async function signInThrottled(
  ctx: Context,
  deps: { limits: RateLimits; audit: AuditService; html(ctx: Context, status: number, template: string, data: Record<string, unknown> & { title: string }): void },
  clientId: string,
  username: string,
): Promise<boolean> {
  const byIp = await deps.limits.consume('signInPerIp', ctx.ip);
  const byAccount = byIp.allowed ? await deps.limits.consume('signInPerAccount', `${clientId}:${username.trim().toLowerCase()}`) : byIp;
  if (byAccount.allowed) return false;
  ctx.set('Retry-After', String(byAccount.retryAfter));
  if (byAccount.unavailable) {
    // The counters' database is down: nothing can be checked (or recorded) now; fail closed, say so.
    deps.html(ctx, 503, 'message', { title: 'Sign-in is temporarily unavailable', message: `Try again in ${byAccount.retryAfter} seconds.` });
    return true;
  }
  await deps.audit.record({ type: 'auth.login.failed', clientId, ...requestMeta(ctx), details: { reason: 'rate_limited', ...recordedUsername(username) } });
  deps.html(ctx, 429, 'message', { title: 'Too many sign-in attempts', message: `Wait ${byAccount.retryAfter} seconds, then try again.` });
  return true;
}

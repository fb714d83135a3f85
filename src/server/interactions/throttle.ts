/**
 * Brute-force limits on Behalf's sign-in forms: per client IP and per account
 * name. Every attempt takes a point before the password is checked (so
 * parallel guesses cannot outrun the budget), and a successful one gives its
 * points back: only failures count. Over the limit the form is not even
 * checked: a 429 page with Retry-After and a way out, and the attempt is
 * audited.
 */
import type { Context } from 'koa';
import type { AuditService } from '../audit-trail/audit-service.js';
import { requestMeta } from '../audit-trail/request-meta.js';
import { recordedUsername } from '../audit-trail/recorded-username.js';
import type { RateLimits } from '../http/rate-limits.js';

const accountKey = (clientId: string, username: string) => `${clientId}:${username.trim().toLowerCase()}`;

/** Where a throttled page leads: Cancel (back to the application) and the form again. */
export interface ThrottleExits {
  uid: string;
  csrf: string;
}

export async function signInThrottled(
  ctx: Context,
  deps: {
    limits: RateLimits;
    audit: AuditService;
    html(ctx: Context, status: number, template: string, data: Record<string, unknown> & { title: string }): void;
  },
  clientId: string,
  username: string,
  exits?: ThrottleExits,
): Promise<boolean> {
  const byIp = await deps.limits.consume('signInPerIp', ctx.ip);
  const byAccount = byIp.allowed ? await deps.limits.consume('signInPerAccount', accountKey(clientId, username)) : byIp;
  if (byAccount.allowed) return false;
  ctx.set('Retry-After', String(byAccount.retryAfter));
  if (byAccount.unavailable) {
    // The counters' database is down: nothing can be checked (or recorded) now; fail closed, say so.
    deps.html(ctx, 503, 'throttled', {
      title: 'Sign-in is temporarily unavailable',
      message: `Try again in ${byAccount.retryAfter} seconds.`,
      ...exits,
    });
    return true;
  }
  await deps.audit.record({
    type: 'auth.login.failed',
    clientId,
    ...requestMeta(ctx),
    details: { reason: 'rate_limited', ...recordedUsername(username) },
  });
  const at = new Date(Date.now() + byAccount.retryAfter * 1000).toISOString().slice(11, 19);
  deps.html(ctx, 429, 'throttled', {
    title: 'Too many sign-in attempts',
    message: `Wait ${byAccount.retryAfter} seconds (until ${at} UTC), then try again.`,
    ...exits,
  });
  return true;
}

/** A sign-in that succeeded gives back the points its attempt took: only failures count. */
export async function signInSucceeded(ctx: Context, deps: { limits: RateLimits }, clientId: string, username: string): Promise<void> {
  await Promise.all([deps.limits.refund('signInPerIp', ctx.ip), deps.limits.refund('signInPerAccount', accountKey(clientId, username))]);
}

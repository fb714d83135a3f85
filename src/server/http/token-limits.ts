/**
 * Limits on the token endpoint, before oidc-provider sees the request: per
 * client IP, and per client id as named in HTTP Basic (unverified here: the
 * budget only slows a caller down, authentication happens later).
 */
import type { Context, Next } from 'koa';
import type { RateLimits } from './rate-limits.js';

function basicClientId(header: string): string | undefined {
  const match = /^Basic ([A-Za-z0-9+/]+=*)$/.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon > 0 ? decoded.slice(0, colon).slice(0, 200) : undefined;
}

export function tokenEndpointLimits(limits: RateLimits) {
  return async function limitTokenRequests(ctx: Context, next: Next): Promise<void> {
    if (ctx.method !== 'POST' || (ctx.path !== '/token' && ctx.path !== '/token/introspection' && ctx.path !== '/token/revocation'))
      return next();
    const clientId = basicClientId(ctx.get('authorization'));
    // Both counters at once (one round trip of waiting, not two); the first refusal decides.
    const verdicts = await Promise.all([
      limits.consume('tokenPerIp', ctx.ip),
      ...(clientId ? [limits.consume('tokenPerClient', clientId)] : []),
    ]);
    const verdict = verdicts.find((candidate) => !candidate.allowed) ?? verdicts[0]!;
    if (verdict.allowed) return next();
    // The database being down is Behalf's outage, not the caller's excess: 503 (RFC 6749 temporarily_unavailable), not 429.
    ctx.status = verdict.unavailable ? 503 : 429;
    ctx.set('Retry-After', String(verdict.retryAfter));
    ctx.set('Cache-Control', 'no-store');
    ctx.body = verdict.unavailable
      ? {
          error: 'temporarily_unavailable',
          error_description: `the service is temporarily unavailable; retry after ${verdict.retryAfter} seconds`,
        }
      : { error: 'temporarily_unavailable', error_description: `too many requests; retry after ${verdict.retryAfter} seconds` };
  };
}

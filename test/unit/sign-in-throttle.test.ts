/** The sign-in throttle's three answers: go on, 429 (over budget, audited), 503 (counters unreachable). */
import type { Context } from 'koa';
import type { AuditService } from '../../src/server/audit-trail/audit-service.js';
import type { LimitVerdict, RateLimits } from '../../src/server/http/rate-limits.js';
import { signInThrottled } from '../../src/server/interactions/throttle.js';

function harness(verdict: LimitVerdict) {
  const headers: Record<string, string> = {};
  const pages: { status: number; title: string }[] = [];
  const recorded: unknown[] = [];
  const ctx = { ip: '127.0.0.1', get: () => '', set: (name: string, value: string) => (headers[name] = value) } as unknown as Context;
  const deps = {
    limits: { consume: async () => verdict, refund: async () => undefined, readiness: [], close: async () => undefined } as RateLimits,
    audit: { record: async (event: unknown) => recorded.push(event) } as unknown as AuditService,
    html: (_ctx: Context, status: number, _template: string, data: { title: string }) => pages.push({ status, title: data.title }),
  };
  return { run: () => signInThrottled(ctx, deps, 'portal', 'Sam@Example.com'), headers, pages, recorded };
}

it('lets a request within budget through', async () => {
  const h = harness({ allowed: true, retryAfter: 0 });
  expect(await h.run()).toBe(false);
  expect(h.pages).toEqual([]);
});

it('answers 429 with Retry-After over budget, and audits it', async () => {
  const h = harness({ allowed: false, retryAfter: 42 });
  expect(await h.run()).toBe(true);
  expect(h.pages).toEqual([{ status: 429, title: 'Too many sign-in attempts' }]);
  expect(h.headers['Retry-After']).toBe('42');
  expect(h.recorded).toEqual([
    expect.objectContaining({ type: 'auth.login.failed', details: { reason: 'rate_limited', username: 'Sam@Example.com' } }),
  ]);
});

it('answers 503 when the counters cannot be reached, without trying to audit', async () => {
  const h = harness({ allowed: false, retryAfter: 5, unavailable: true });
  expect(await h.run()).toBe(true);
  expect(h.pages).toEqual([{ status: 503, title: 'Sign-in is temporarily unavailable' }]);
  expect(h.headers['Retry-After']).toBe('5');
  expect(h.recorded).toEqual([]);
});

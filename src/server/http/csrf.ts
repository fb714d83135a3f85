/**
 * CSRF protection for Behalf's own forms: a per-browser secret in a signed,
 * HttpOnly cookie and a token derived from it in each form (pillarjs/csrf).
 */
import Tokens from 'csrf';
import type { Context } from 'koa';

const tokens = new Tokens();
export const CSRF_COOKIE = 'behalf.csrf';

function secretFor(ctx: Context, secure: boolean): string {
  let secret = ctx.cookies.get(CSRF_COOKIE, { signed: true });
  if (!secret) {
    secret = tokens.secretSync();
    ctx.cookies.set(CSRF_COOKIE, secret, { signed: true, httpOnly: true, sameSite: 'lax', secure, path: '/' });
  }
  return secret;
}

export function issueCsrfToken(ctx: Context, secure: boolean): string {
  return tokens.create(secretFor(ctx, secure));
}

export function verifyCsrfToken(ctx: Context, token: unknown): boolean {
  const secret = ctx.cookies.get(CSRF_COOKIE, { signed: true });
  return typeof token === 'string' && !!secret && tokens.verify(secret, token);
}

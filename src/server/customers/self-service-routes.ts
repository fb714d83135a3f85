/**
 * The customer's own pages on Behalf that work without being signed in:
 * "Forgot your password?" (from a store's sign-in page), the emailed reset
 * link, and (when the store allows it) self-registration with the emailed
 * email verification. Forms carry CSRF tokens; answers never tell whether an
 * email belongs to an account.
 */
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context } from 'koa';
import type { StoreService } from '../../accounts/store-service.js';
import type { Store } from '../../accounts/entities/index.js';
import { PasswordPolicyError } from '../../accounts/passwords.js';
import { requestMeta } from '../audit-trail/request-meta.js';
import { issueCsrfToken, verifyCsrfToken } from '../http/csrf.js';
import type { RateLimits } from '../http/rate-limits.js';
import type { OidcPort, RegisteredClient } from '../oidc/port.js';
import type { Renderer } from '../views/renderer.js';
import type { PasswordReset } from './password-reset.js';
import type { Registration } from './registration.js';

export interface SelfServiceDeps {
  oidc: OidcPort;
  stores: StoreService;
  renderer: Renderer;
  limits: RateLimits;
  reset: PasswordReset;
  registration: Registration;
  secureCookies: boolean;
  maxBodyBytes: number;
  /** `mail.enabled`: without mail there is no reset link to send and no address to verify. */
  mailEnabled: boolean;
}

const MAX_EMAIL = 320;

export function selfServiceRoutes(deps: SelfServiceDeps): Router {
  const router = new Router();
  const parseForm = bodyParser({ enableTypes: ['form'], formLimit: `${deps.maxBodyBytes}b`, encoding: 'utf-8' });

  function html(ctx: Context, status: number, template: string, data: Record<string, unknown> & { title: string }) {
    ctx.status = status;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = deps.renderer.page(template, data);
  }
  const message = (ctx: Context, status: number, title: string, text: string, detail?: string) =>
    html(ctx, status, 'message', { title, message: text, detail });

  /** The store whose sign-in this interaction is, and its client; undefined for any other interaction. */
  async function storeOf(ctx: Context): Promise<{ store: Store; client: RegisteredClient } | undefined> {
    try {
      const details = await deps.oidc.interactionDetails(ctx.req, ctx.res);
      if (details.uid !== ctx.params.uid || details.prompt.name !== 'login' || details.params.on_behalf_of !== undefined) return undefined;
      const client = await deps.oidc.findClient(String(details.params.client_id));
      if (client?.kind !== 'storefront' || !client.store) return undefined;
      const store = await deps.stores.findBySlug(client.store);
      return store && { store, client };
    } catch {
      return undefined;
    }
  }

  function formOk(ctx: Context): boolean {
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    if (verifyCsrfToken(ctx, body.csrf)) return true;
    message(ctx, 403, 'This form has expired', 'Reload the page and try again.');
    return false;
  }

  const field = (ctx: Context, name: string, max: number) => {
    const value = ((ctx.request.body ?? {}) as Record<string, unknown>)[name];
    return typeof value === 'string' ? value.trim().slice(0, max) : '';
  };

  /** Sign-in budget per IP and per typed address: reset requests and registrations spend it too. */
  async function throttled(ctx: Context, key: string): Promise<boolean> {
    const byIp = await deps.limits.consume('signInPerIp', ctx.ip);
    const byName = byIp.allowed ? await deps.limits.consume('signInPerAccount', key) : byIp;
    if (byName.allowed) return false;
    ctx.set('Retry-After', String(byName.retryAfter));
    message(ctx, byName.unavailable ? 503 : 429, 'Too many attempts', `Wait ${byName.retryAfter} seconds, then try again.`);
    return true;
  }

  router.get('/interaction/:uid/forgot', async (ctx) => {
    const found = deps.mailEnabled ? await storeOf(ctx) : undefined;
    if (!found) return message(ctx, 404, 'Not available', 'Go back to the store and start again.');
    html(ctx, 200, 'forgot', {
      title: 'Reset your password',
      uid: ctx.params.uid,
      storeName: found.store.name,
      csrf: issueCsrfToken(ctx, deps.secureCookies),
    });
  });

  router.post('/interaction/:uid/forgot', parseForm, async (ctx) => {
    const found = deps.mailEnabled ? await storeOf(ctx) : undefined;
    if (!found) return message(ctx, 404, 'Not available', 'Go back to the store and start again.');
    if (!formOk(ctx)) return;
    const email = field(ctx, 'email', MAX_EMAIL);
    if (!email || email.includes('\u0000'))
      return html(ctx, 400, 'forgot', {
        title: 'Reset your password',
        uid: ctx.params.uid,
        storeName: found.store.name,
        csrf: issueCsrfToken(ctx, deps.secureCookies),
        error: 'Enter the email address of your account.',
      });
    if (await throttled(ctx, `reset:${found.client.clientId}:${email.toLowerCase()}`)) return;
    await deps.reset.request(found.store, email, { clientId: found.client.clientId, ...requestMeta(ctx) });
    html(ctx, 200, 'forgot-sent', { title: 'Check your email', uid: ctx.params.uid, storeName: found.store.name });
  });

  const resetForm = (ctx: Context, status: number, error?: string) =>
    html(ctx, status, 'reset', {
      title: 'Choose a new password',
      token: ctx.params.token,
      csrf: issueCsrfToken(ctx, deps.secureCookies),
      error,
    });
  const expiredLink = (ctx: Context) =>
    message(ctx, 400, 'This link no longer works', 'Reset links work once and for a short time. Ask for a new one from the sign-in page.');

  router.get('/password-reset/:token', async (ctx) => {
    // The token is in the path: never let it travel on in a Referer (the layout also says no-referrer).
    if (!(await deps.reset.usable(ctx.params.token!))) return expiredLink(ctx);
    resetForm(ctx, 200);
  });

  router.post('/password-reset/:token', parseForm, async (ctx) => {
    if (!formOk(ctx)) return;
    const password = ((ctx.request.body ?? {}) as Record<string, unknown>).password;
    const again = ((ctx.request.body ?? {}) as Record<string, unknown>).password_again;
    if (typeof password !== 'string' || !password) return resetForm(ctx, 400, 'Enter a new password.');
    if (password !== again) return resetForm(ctx, 400, 'The two passwords are not the same.');
    try {
      if (!(await deps.reset.complete(ctx.params.token!, password, requestMeta(ctx)))) return expiredLink(ctx);
    } catch (error) {
      if (error instanceof PasswordPolicyError) return resetForm(ctx, 400, `The new password is not acceptable: ${error.message}.`);
      throw error;
    }
    message(ctx, 200, 'Your password was changed', 'Go back to the store and sign in with your new password.');
  });

  // Self-registration (a store setting, off by default) and the emailed email verification.
  router.get('/interaction/:uid/register', async (ctx) => {
    const found = await storeOf(ctx);
    if (!found || !deps.mailEnabled || !(await deps.registration.open(found.store.id)))
      return message(ctx, 404, 'Not available', 'This store does not take new accounts here.');
    html(ctx, 200, 'register', {
      title: 'Create an account',
      uid: ctx.params.uid,
      storeName: found.store.name,
      csrf: issueCsrfToken(ctx, deps.secureCookies),
    });
  });

  router.post('/interaction/:uid/register', parseForm, async (ctx) => {
    const found = await storeOf(ctx);
    if (!found || !deps.mailEnabled || !(await deps.registration.open(found.store.id)))
      return message(ctx, 404, 'Not available', 'This store does not take new accounts here.');
    if (!formOk(ctx)) return;
    const input = {
      email: field(ctx, 'email', MAX_EMAIL),
      name: field(ctx, 'name', 200),
      password: ((ctx.request.body ?? {}) as Record<string, unknown>).password,
    };
    const again = (error: string) =>
      html(ctx, 400, 'register', {
        title: 'Create an account',
        uid: ctx.params.uid,
        storeName: found.store.name,
        csrf: issueCsrfToken(ctx, deps.secureCookies),
        email: input.email,
        name: input.name,
        error,
      });
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(input.email)) return again('Enter your email address.');
    if (!input.name) return again('Enter your name.');
    if (typeof input.password !== 'string' || !input.password) return again('Choose a password.');
    if (await throttled(ctx, `register:${found.client.clientId}:${input.email.toLowerCase()}`)) return;
    try {
      await deps.registration.register(
        found.store,
        { email: input.email, name: input.name, password: input.password },
        {
          clientId: found.client.clientId,
          ...requestMeta(ctx),
        },
      );
    } catch (error) {
      if (error instanceof PasswordPolicyError) return again(`The password is not acceptable: ${error.message}.`);
      throw error;
    }
    html(ctx, 200, 'forgot-sent', { title: 'Check your email', uid: ctx.params.uid, storeName: found.store.name, registered: true });
  });

  router.get('/verify-email/:token', async (ctx) => {
    const verified = await deps.registration.verify(ctx.params.token!, requestMeta(ctx));
    if (!verified) return message(ctx, 400, 'This link no longer works', 'Verification links work once and for a limited time.');
    message(ctx, 200, 'Your email address is confirmed', 'Go back to the store and sign in.');
  });

  return router;
}

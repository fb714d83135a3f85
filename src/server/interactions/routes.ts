/**
 * Behalf's interaction pages: sign-in, consent and cancel. oidc-provider
 * drives the flow; these routes only collect the user's answer and hand it
 * back with `interactionResult`.
 */
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context, Next } from 'koa';
import { issueCsrfToken, verifyCsrfToken } from '../http/csrf.js';
import type { Logger } from '../observability/logger.js';
import type { Renderer } from '../views/renderer.js';
import type { InteractionDetails, InteractionOutcome, RegisteredClient } from '../oidc/port.js';
import { clientAudience } from '../oidc/session-policy.js';
import { describeConsent } from './consent-text.js';
import { requestMeta } from '../audit-trail/request-meta.js';
import { recordedUsername } from '../audit-trail/recorded-username.js';
import { reauthScreen, type ReauthDependencies } from './reauth.js';
import { REFUSALS } from './reauth-view.js';
import { signInSucceeded, signInThrottled } from './throttle.js';
import { PASSWORD_AND_OTP, secondFactorStep, TOO_MANY_CODES } from './second-factor.js';
import type { SelfServiceHooks } from '../customers/customers-module.js';

/** What the re-auth screen needs, plus the page renderer, the logger and the form size limit. */
export interface InteractionDependencies extends ReauthDependencies {
  renderer: Renderer;
  logger: Logger;
  maxBodyBytes: number;
  /** Password reset and self-registration links on a store's sign-in page, and the unverified-email check (customers/). */
  selfService?: SelfServiceHooks;
}

const INVALID_CREDENTIALS = 'Invalid email or password. After several failed attempts, sign-in is paused for a while.';
/** What a refused sign-in says, by reason (anything else: INVALID_CREDENTIALS, which tells nothing away). */
const SIGN_IN_REFUSALS: Record<string, string> = {
  disabled: 'This account is disabled. Contact support.',
  // Only after the staff password was right (accounts.signIn): staff sign in at the portal, or at a store only to log in on behalf.
  staff_at_storefront:
    'This is a staff account: staff sign in at the support portal. To act for a customer, start Login on behalf from the portal.',
};
const MAX_FIELD = 320;

type Details = InteractionDetails;

export function interactionRoutes(deps: InteractionDependencies): Router {
  const router = new Router({ prefix: '/interaction' });
  const parseForm = bodyParser({ enableTypes: ['form'], formLimit: `${deps.maxBodyBytes}b`, encoding: 'utf-8' });

  function html(ctx: Context, status: number, template: string, data: Record<string, unknown> & { title: string }) {
    ctx.status = status;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = deps.renderer.page(template, data);
  }

  /**
   * The form body parser, with its failures (too large, unsupported charset or
   * encoding, undecodable body) answered as a page for the browser: left to the
   * app's last-resort handler they became JSON, or a 500 for a broken gzip body.
   */
  async function forms(ctx: Context, next: Next) {
    let parsed = false;
    try {
      await parseForm(ctx, async () => {
        parsed = true;
      });
    } catch (error) {
      const status = (error as { status?: number }).status;
      deps.logger.info('unreadable form refused', { event: 'http.form.refused', path: ctx.path, error: (error as Error).message });
      if (status === 413)
        return html(ctx, 413, 'message', { title: 'This form is too large', message: 'Go back, check what you entered and try again.' });
      if (status === 415)
        return html(ctx, 415, 'message', {
          title: 'Unsupported form',
          message: 'Forms must be sent as UTF-8 application/x-www-form-urlencoded.',
        });
      return html(ctx, 400, 'message', { title: 'This form could not be read', message: 'Go back and try again.' });
    }
    if (parsed) await next();
  }

  function expired(ctx: Context) {
    html(ctx, 400, 'message', {
      title: 'This sign-in request has expired',
      message: 'Go back to the application you came from and start again.',
    });
  }

  /** The interaction bound to this browser, and only if it is the one in the URL. */
  async function load(ctx: Context): Promise<Details | undefined> {
    try {
      const details = await deps.oidc.interactionDetails(ctx.req, ctx.res);
      return details.uid === ctx.params.uid ? details : undefined;
    } catch {
      return undefined;
    }
  }

  async function finish(ctx: Context, result: InteractionOutcome) {
    const redirectTo = await deps.oidc.finishInteraction(ctx.req, ctx.res, result);
    ctx.status = 303;
    ctx.redirect(redirectTo);
  }

  function rejectForm(ctx: Context): boolean {
    if (!ctx.is('application/x-www-form-urlencoded')) {
      html(ctx, 415, 'message', { title: 'Unsupported form', message: 'Forms must be sent as application/x-www-form-urlencoded.' });
      return true;
    }
    const body = ctx.request.body as Record<string, unknown>;
    if (!verifyCsrfToken(ctx, body.csrf)) {
      html(ctx, 403, 'message', { title: 'This form has expired', message: 'Reload the page and try again.' });
      return true;
    }
    return false;
  }

  /** Adds what the consent prompt found missing to the grant; returns the grant id. */
  async function grantConsent(ctx: Context, details: Details): Promise<string> {
    const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = details.prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    const accountId = details.sessionAccountId!;
    const clientId = String(details.params.client_id);
    const grantId = await deps.oidc.extendGrant(details.grantId, accountId, clientId, {
      scopes: missingOIDCScope ?? [],
      claims: missingOIDCClaims ?? [],
      resourceScopes: missingResourceScopes ?? {},
    });
    await deps.audit.record({
      type: 'consent.granted',
      actor: accountId,
      subject: accountId,
      clientId,
      ...requestMeta(ctx),
      details: {
        grant_id: grantId,
        scopes: missingOIDCScope ?? [],
        claims: missingOIDCClaims ?? [],
        resources: missingResourceScopes ?? {},
      },
    });
    return grantId;
  }

  async function clientName(details: Details): Promise<{ name: string; client: RegisteredClient | undefined }> {
    const client = await deps.oidc.findClient(String(details.params.client_id));
    return { name: client?.name ?? String(details.params.client_id), client };
  }

  async function renderLogin(ctx: Context, details: Details, status = 200, error?: string, email?: string) {
    const { name, client } = await clientName(details);
    html(ctx, status, 'login', {
      title: 'Sign in',
      uid: details.uid,
      clientName: name,
      selfService: client && deps.selfService ? await deps.selfService.links(client) : undefined,
      csrf: issueCsrfToken(ctx, deps.secureCookies),
      error,
      email,
    });
  }

  const reauth = reauthScreen(deps, { html, finish });
  const secondFactor = secondFactorStep(deps, { html });
  const isReauth = (details: Details) => details.prompt.name === 'login' && typeof details.params.on_behalf_of === 'string';

  router.get('/:uid', async (ctx) => {
    const details = await load(ctx);
    if (!details) return expired(ctx);
    if (isReauth(details)) return reauth.show(ctx, details);
    if (details.prompt.name === 'login') return renderLogin(ctx, details);
    if (details.prompt.name === 'consent') {
      const { name, client } = await clientName(details);
      // First-party clients never show a consent screen (even for prompt=consent).
      if (client?.firstParty && details.sessionAccountId) {
        return finish(ctx, { consent: { grantId: await grantConsent(ctx, details) } });
      }
      return html(ctx, 200, 'consent', {
        title: 'Allow access?',
        uid: details.uid,
        clientName: name,
        items: describeConsent(details.prompt.details),
        csrf: issueCsrfToken(ctx, deps.secureCookies),
      });
    }
    return html(ctx, 400, 'message', { title: 'Unsupported step', message: `Behalf cannot complete the "${details.prompt.name}" step.` });
  });

  router.post('/:uid/login', forms, async (ctx) => {
    const details = await load(ctx);
    if (!details) return expired(ctx);
    if (rejectForm(ctx)) return;
    // A login-on-behalf interaction is completed only through its own screen.
    if (details.prompt.name !== 'login' || isReauth(details)) return expired(ctx);
    const body = ctx.request.body as Record<string, unknown>;
    const email = typeof body.email === 'string' ? body.email.trim().slice(0, MAX_FIELD) : '';
    const password = typeof body.password === 'string' ? body.password : '';
    if (!email || !password) return renderLogin(ctx, details, 400, 'Enter your email and password.', email);
    if (password.length > 1024) return renderLogin(ctx, details, 400, INVALID_CREDENTIALS, email);

    const { client } = await clientName(details);
    const audience = client ? await clientAudience(deps.stores, client) : undefined;
    if (!client || !audience || client.kind === 'service') {
      return html(ctx, 400, 'message', { title: 'Sign-in is not available', message: 'This application does not sign users in.' });
    }
    if (
      await signInThrottled(ctx, { ...deps, html }, client.clientId, email, {
        uid: details.uid,
        csrf: issueCsrfToken(ctx, deps.secureCookies),
      })
    )
      return;
    const result = await deps.accounts.signIn(audience, email, password);
    const meta = requestMeta(ctx);
    if (!result.ok) {
      // Recorded even when nothing is learned about the account: brute force shows up in the trail.
      await deps.audit.record({
        type: 'auth.login.failed',
        actor: result.accountId ?? null,
        subject: result.accountId ?? null,
        clientId: client.clientId,
        ...meta,
        details: { reason: result.reason, ...recordedUsername(email) },
      });
      if (result.lockedUntil) {
        await deps.audit.record({
          type: 'auth.lockout',
          actor: 'system',
          subject: result.accountId ?? null,
          clientId: client.clientId,
          ...meta,
          details: { locked_until: result.lockedUntil.toISOString() },
        });
      }
      return renderLogin(ctx, details, 200, SIGN_IN_REFUSALS[result.reason] ?? INVALID_CREDENTIALS, email);
    }
    await signInSucceeded(ctx, deps, client.clientId, email);
    if (await deps.selfService?.unverified(result.account.id)) {
      const id = result.account.id;
      await deps.audit.record({
        type: 'auth.login.failed',
        actor: id,
        subject: id,
        clientId: client.clientId,
        ...meta,
        details: { reason: 'email_unverified' },
      });
      return renderLogin(ctx, details, 200, 'Confirm your email address first: open the link we sent you.', email);
    }
    // Staff with TOTP: the password alone signs nobody in; the code comes on a second step.
    if (await deps.totp.isEnrolled(result.account.id)) {
      return secondFactor.ask(ctx, details, result.account.id, { kind: 'login', clientId: client.clientId, username: email });
    }
    return signedIn(ctx, result.account.id, client.clientId, ['pwd']);
  });

  async function signedIn(ctx: Context, accountId: string, clientId: string, amr: string[], extra: Record<string, unknown> = {}) {
    // Fail closed: no session without its audit record.
    await deps.audit.record({
      type: 'auth.login.succeeded',
      actor: accountId,
      subject: accountId,
      clientId,
      ...requestMeta(ctx),
      details: { amr, ...extra },
    });
    return finish(ctx, { login: { accountId, amr, remember: true } });
  }

  router.post('/:uid/second-factor', forms, async (ctx) => {
    const details = await load(ctx);
    if (!details) return expired(ctx);
    if (rejectForm(ctx)) return;
    const pending = details.prompt.name === 'login' ? await secondFactor.find(details) : undefined;
    // Only the kind of step this interaction started (a sign-in or a re-auth) can be finished here.
    if (!pending || (pending.state.kind === 'reauth') !== isReauth(details)) return expired(ctx);
    return secondFactor.submit(ctx, details, pending, {
      async verified(ctx, verified, method) {
        if (verified.state.kind === 'reauth') return reauth.completeWithSecondFactor(ctx, details, verified);
        return signedIn(ctx, verified.accountId, verified.state.clientId, PASSWORD_AND_OTP, { second_factor: method });
      },
      async exhausted(ctx, state) {
        if (state.kind === 'reauth') return reauth.restart(ctx, details, state);
        return renderLogin(ctx, details, 200, TOO_MANY_CODES, state.username);
      },
    });
  });

  router.post('/:uid/reauth', forms, async (ctx) => {
    const details = await load(ctx);
    if (!details) return expired(ctx);
    if (rejectForm(ctx)) return;
    if (!isReauth(details)) return expired(ctx);
    return reauth.submit(ctx, details);
  });

  router.get('/:uid/approval', async (ctx) => {
    const details = await load(ctx);
    if (!details) return expired(ctx);
    if (!isReauth(details)) return expired(ctx);
    return reauth.approval(ctx, details);
  });

  router.post('/:uid/confirm', forms, async (ctx) => {
    const details = await load(ctx);
    if (!details) return expired(ctx);
    if (rejectForm(ctx)) return;
    if (details.prompt.name !== 'consent' || !details.sessionAccountId) return expired(ctx);
    const grantId = await grantConsent(ctx, details);
    return finish(ctx, { consent: { grantId } });
  });

  router.post('/:uid/abort', forms, async (ctx) => {
    const details = await load(ctx);
    if (!details) return expired(ctx);
    if (rejectForm(ctx)) return;
    // From the refusal page of a login on behalf: the storefront is told it was refused, and why
    // (a known reason only: the description reaches the client), not that the agent cancelled.
    const refused = (ctx.request.body as Record<string, unknown>).refused;
    if (typeof refused === 'string' && isReauth(details) && REFUSALS[refused]) {
      return finish(ctx, { error: 'access_denied', error_description: `Login on behalf refused: ${REFUSALS[refused]}` });
    }
    return finish(ctx, { error: 'access_denied', error_description: 'The user cancelled the request' });
  });

  return router;
}

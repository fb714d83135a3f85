/**
 * Who is signed in, and calling the orders API as them: with the customer's
 * own JWT (renewed silently through the browser when it runs out) or with the
 * on-behalf JWT (renewed by exchanging again on the back channel). The API's
 * refusals become pages that say what happened.
 */
import type { Context } from 'koa';
import type { StoreDeps } from './deps.js';
import { badRequest, notFound, PageError, RedirectSignal } from './http.js';
import { checkSessionStatus, onBehalfOrdersToken } from './on-behalf.js';
import { startFlow } from './flows.js';
import { OrdersApiError, type OrdersCredential } from './orders-api.js';
import { needsRenewal, type CustomerUser, type Session, type SessionUser } from './browser-sessions.js';

export interface SignedIn<U extends SessionUser = SessionUser> {
  session: Session;
  user: U;
}

/** The signed-in user; a visitor is sent to sign in (pages) or refused (forms). */
export function requireUser(ctx: Context, deps: StoreDeps): SignedIn {
  const session = ctx.state.session;
  if (session?.user) return { session, user: session.user };
  if (ctx.method === 'GET') throw new RedirectSignal(`/${deps.store.slug}/signin?returnTo=${encodeURIComponent(ctx.path)}`);
  throw new PageError(401, 'Please sign in', 'You are not signed in to this store (or your session ended). Sign in and try again.');
}

/** The signed-in customer himself; pages that are his alone are refused while an agent acts for him. */
export function requireCustomer(ctx: Context, deps: StoreDeps, what: string): SignedIn<CustomerUser> {
  const { session, user } = requireUser(ctx, deps);
  if (user.mode === 'on-behalf') {
    throw new PageError(
      403,
      'Not available while acting on behalf',
      `${what} cannot be viewed or changed while acting on behalf of a customer. Only ${user.customerName} can do that, signed in himself.`,
    );
  }
  return { session, user };
}

/** Sends the browser through a silent renewal and back: to this page, or (after a form post) to the store's home. */
async function renewCustomer(ctx: Context, deps: StoreDeps, session: Session): Promise<never> {
  const returnTo = ctx.method === 'GET' ? ctx.url : `/${deps.store.slug}/`;
  if (ctx.method !== 'GET') session.flash = { kind: 'info', text: 'Your sign-in was renewed. Please try that again.' };
  throw new RedirectSignal(await startFlow(ctx, deps, 'renew', { returnTo }));
}

async function ordersToken(ctx: Context, deps: StoreDeps, signedIn: SignedIn, force = false): Promise<OrdersCredential> {
  const { session, user } = signedIn;
  if (user.mode === 'on-behalf') {
    const token = await onBehalfOrdersToken(ctx, deps, session, user, force);
    return user.ordersBound ? { token, dpop: user.dpop } : token;
  }
  if (force || needsRenewal(user.orders, deps.renewBeforeMs)) return renewCustomer(ctx, deps, session);
  return user.orders.value;
}

/** The orders API's refusal as a page a person can act on. */
function pageFor(error: OrdersApiError): PageError {
  switch (error.status) {
    case 400:
    case 413:
    case 415:
      return badRequest('The shop could not do that.', error.message);
    case 403:
      if (error.code === 'on_behalf_forbidden')
        return new PageError(403, 'Not allowed while acting on behalf', 'This change must be made by the customer himself.', error.message);
      return new PageError(403, 'Not allowed', 'You may not do that here.', error.message);
    case 404:
      return notFound('order or item');
    case 409:
      return new PageError(
        409,
        'Already done',
        'That was already done (or changed meanwhile). Reload the page to see where things stand.',
        error.message,
      );
    default:
      return new PageError(
        502,
        'The shop is unavailable',
        'The orders service did not answer as expected. Try again in a moment.',
        error.status ? `HTTP ${error.status}` : error.message,
      );
  }
}

/** One call to the orders API as the signed-in user. A rejected token is renewed once (nothing ran). */
export async function callOrders<T>(ctx: Context, deps: StoreDeps, method: string, path: string, body?: unknown): Promise<T> {
  const signedIn = requireUser(ctx, deps);
  let token = await ordersToken(ctx, deps, signedIn);
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await deps.orders.request<T>(token, method, path, body);
    } catch (caught) {
      if (!(caught instanceof OrdersApiError)) throw caught;
      if (caught.status !== 401 || attempt > 0) throw pageFor(caught);
      if (signedIn.user.mode === 'on-behalf') await checkSessionStatus(ctx, deps, signedIn.session, signedIn.user, true);
      token = await ordersToken(ctx, deps, signedIn, true);
    }
  }
}

/**
 * The customer's opaque token for Behalf's customer API, fetched through a
 * silent authorization request the first time a page needs it (GET pages
 * only). Undefined when Behalf would not give one lately: pages degrade.
 */
export async function accountToken(ctx: Context, deps: StoreDeps, signedIn: SignedIn<CustomerUser>): Promise<string | undefined> {
  const { user } = signedIn;
  const now = Date.now();
  if (user.account && !needsRenewal(user.account, deps.renewBeforeMs, now)) return user.account.value;
  if ((user.accountUnavailableUntil ?? 0) > now || ctx.method !== 'GET') return undefined;
  throw new RedirectSignal(await startFlow(ctx, deps, 'account-token', { returnTo: ctx.url }));
}

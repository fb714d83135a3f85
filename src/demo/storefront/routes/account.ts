/**
 * The customer's own account: settings (password, email, payment methods)
 * and the access history (who acted on his behalf, when, why, what they did,
 * and ending a session that still runs). All of it is refused while an agent
 * acts for him: the storefront refuses it itself, and the orders API's
 * payment-method change and Behalf's customer API would refuse it too.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { accountToken, callOrders, requireCustomer, requireUser, type SignedIn } from '../access.js';
import { BehalfApiError, type AccountSession } from '../behalf-api.js';
import type { StoreDeps } from '../deps.js';
import { badRequest, formField, isUuid, notFound, PageError, seeOther } from '../http.js';
import type { ActivityEvent, Order, PaymentMethod } from '../orders-api.js';
import type { CustomerUser } from '../browser-sessions.js';
import type { AgentNames } from './shop.js';

const SETTINGS = 'Account settings';
const HISTORY = 'The account access history';
const BRANDS = ['visa', 'mastercard', 'amex', 'demo'];

/** The customer's on-behalf sessions from Behalf, or undefined when no token for the customer API could be had. */
async function accountSessions(ctx: Context, deps: StoreDeps, signedIn: SignedIn<CustomerUser>): Promise<AccountSession[] | undefined> {
  const token = await accountToken(ctx, deps, signedIn);
  if (!token) return undefined;
  try {
    return await deps.behalf.accountSessions(token);
  } catch (caught) {
    if (!(caught instanceof BehalfApiError)) throw caught;
    // A token Behalf no longer takes (its sign-in session ended): fetch a new one next time.
    if (caught.status === 401) signedIn.user.account = undefined;
    return undefined;
  }
}

/**
 * Agent names for orders placed on the customer's behalf: the orders API
 * knows only the agent's account id; Behalf's customer API names the agents
 * of the sessions on the account. While on behalf, the acting agent's own
 * name (from the verified ID token) is known already.
 */
export function agentNamesFor(deps: StoreDeps) {
  return async (ctx: Context, orders: Order[]): Promise<AgentNames> => {
    const names: AgentNames = new Map();
    const { session, user } = requireUser(ctx, deps);
    if (user.mode === 'on-behalf') return names.set(user.agentId, user.agentName);
    if (!orders.some((order) => order.placedBy.onBehalf)) return names;
    for (const found of (await accountSessions(ctx, deps, { session, user })) ?? [])
      if (found.agent.name) names.set(found.agent.id, found.agent.name);
    return names;
  };
}

export function accountRoutes(deps: StoreDeps): Router {
  const router = new Router();
  const base = `/${deps.store.slug}`;

  router.get('/account', (ctx) => {
    const { user } = requireCustomer(ctx, deps, SETTINGS);
    deps.render.storePage(ctx, deps.store, ctx.state.session, 'account', { title: SETTINGS, email: user.email, name: user.name });
  });

  for (const [path, title] of [
    ['/account/password', 'Password'],
    ['/account/email', 'Email address'],
  ] as const) {
    router.get(path, (ctx) => {
      const { user } = requireCustomer(ctx, deps, SETTINGS);
      deps.render.storePage(ctx, deps.store, ctx.state.session, 'account-managed', { title, email: user.email });
    });
  }

  router.get('/account/payment-methods', async (ctx) => {
    requireCustomer(ctx, deps, SETTINGS);
    const { methods } = await callOrders<{ methods: PaymentMethod[] }>(ctx, deps, 'GET', '/payment-methods');
    const year = new Date().getUTCFullYear();
    deps.render.storePage(ctx, deps.store, ctx.state.session, 'payment-methods', {
      title: 'Payment methods',
      methods,
      brands: BRANDS,
      years: Array.from({ length: 11 }, (_, i) => year + i),
    });
  });

  router.post('/account/payment-methods', async (ctx) => {
    const { session } = requireCustomer(ctx, deps, SETTINGS);
    const body = ctx.request.body;
    const brand = formField(body, 'brand', { required: true });
    const last4 = formField(body, 'last4', { required: true });
    const expMonth = Number(formField(body, 'expMonth', { required: true, max: 2 }));
    const expYear = Number(formField(body, 'expYear', { required: true, max: 4 }));
    if (!BRANDS.includes(brand)) throw badRequest('Choose one of the card brands offered.');
    if (!/^\d{4}$/.test(last4)) throw badRequest('Enter the last four digits of the card.');
    if (!Number.isInteger(expMonth) || !Number.isInteger(expYear)) throw badRequest('Choose the expiry month and year.');
    const { methods } = await callOrders<{ methods: PaymentMethod[] }>(ctx, deps, 'GET', '/payment-methods');
    const kept = methods.map(({ brand: b, last4: l, expMonth: m, expYear: y, isDefault }) => ({
      brand: b,
      last4: l,
      expMonth: m,
      expYear: y,
      isDefault,
    }));
    if (kept.length >= 5) throw badRequest('At most five payment methods can be saved. Remove one first.');
    await callOrders(ctx, deps, 'PUT', '/payment-methods', {
      methods: [...kept, { brand, last4, expMonth, expYear, isDefault: kept.length === 0 }],
    });
    session.flash = { kind: 'info', text: `Card ending in ${last4} saved.` };
    seeOther(ctx, `${base}/account/payment-methods`);
  });

  router.get('/account/history', async (ctx) => {
    const signedIn = requireCustomer(ctx, deps, HISTORY);
    // A session running now comes first: it is the one the customer may want to end.
    const sessions = (await accountSessions(ctx, deps, signedIn))?.sort((a, b) => Number(b.active) - Number(a.active));
    const { events } = await callOrders<{ events: ActivityEvent[] }>(ctx, deps, 'GET', '/me/activity?limit=100');
    // What agents did: the orders API's audit events whose actor is not the customer, by on-behalf session.
    // The API lists newest first; each session's story reads better in the order it happened.
    const done = new Map<string, ActivityEvent[]>();
    const unmatched: ActivityEvent[] = [];
    for (const event of events.filter((e) => e.onBehalf).reverse()) {
      if (event.sessionId && sessions?.some((s) => s.id === event.sessionId))
        done.set(event.sessionId, [...(done.get(event.sessionId) ?? []), event]);
      else unmatched.push(event);
    }
    deps.render.storePage(ctx, deps.store, ctx.state.session, 'history', {
      title: 'Account access history',
      sessions,
      done,
      unmatched,
      describe: describeEvent,
      endedHow: (reason: string | null) => (reason && ENDED_HOW[reason]) || 'ended',
    });
  });

  router.post('/account/history/:id/end', async (ctx) => {
    const signedIn = requireCustomer(ctx, deps, HISTORY);
    const id = (ctx.params as Record<string, string | undefined>).id;
    if (!isUuid(id)) throw notFound('on-behalf session');
    const token = await accountToken(ctx, deps, signedIn);
    if (!token) {
      signedIn.session.flash = { kind: 'error', text: 'Your access history could not be reached just now. Please try again.' };
      return seeOther(ctx, `${base}/account/history`);
    }
    try {
      const ended = await deps.behalf.endAccountSession(token, id);
      signedIn.session.flash = {
        kind: 'info',
        text: ended.agent.name ? `The session of support agent ${ended.agent.name} has ended.` : 'The session has ended.',
      };
    } catch (caught) {
      if (!(caught instanceof BehalfApiError)) throw caught;
      if (caught.status === 404) throw notFound('on-behalf session on your account');
      throw new PageError(502, 'Could not end the session', 'Behalf did not end the session. Try again in a moment.', caught.message);
    }
    seeOther(ctx, `${base}/account/history`);
  });

  return router;
}

/** How a session ended, in the customer's words. */
const ENDED_HOW: Record<string, string> = {
  ended_by_client: 'ended by the support agent',
  ended_by_customer: 'ended by you',
  ended_by_admin: 'ended by an administrator',
  ended_by_agent: 'ended by the support agent',
  kill_switch: 'ended by an administrator',
  agent_logout: 'ended when the support agent signed out',
  expired: 'reached its time limit',
  policy_revoked: 'ended because permissions changed',
  agent_inactive: 'ended because the agent’s account was deactivated',
};

const ENTITY_NAMES: Record<string, string> = {
  order: 'order',
  order_line: 'order line',
  payment: 'payment',
  cart_item: 'cart item',
  payment_method: 'payment method',
};

/** "created an order", "deleted a cart item": one line of what an agent did. */
export function describeEvent(event: ActivityEvent): string {
  const entity = ENTITY_NAMES[event.entity] ?? event.entity.replace(/_/g, ' ');
  const article = /^[aeiou]/.test(entity) ? 'an' : 'a';
  return `${event.change} ${article} ${entity}`;
}

/**
 * Signing in and out, Behalf's callback, the on-behalf entry URL and "End
 * session", and the page that says a session is over (and why).
 */
import Router from '@koa/router';
import type { StoreDeps } from '../deps.js';
import { badRequest, isUuid, queryParam, seeOther } from '../http.js';
import { completeFlow, safeReturnTo, startFlow } from '../flows.js';
import { endOnBehalfQuietly } from '../on-behalf.js';

const ENDED = 'The on-behalf session has ended';

/** What the signed-out page says for each reason; an unknown reason gets the plain default. */
const SIGNED_OUT: Record<string, { title: string; text: string }> = {
  ended: { title: ENDED, text: 'The on-behalf session has ended, so you are signed out of this store.' },
  ended_by_agent: {
    title: ENDED,
    text: 'You ended the on-behalf session. You are signed out of this store; the customer’s account is no longer open in this browser.',
  },
  end_unconfirmed: {
    title: ENDED,
    text: 'The on-behalf session was closed in this browser, but Behalf could not be reached to end it there; it ends by itself when it expires.',
  },
  ended_by_client: { title: ENDED, text: 'The on-behalf session was ended from the storefront (in another tab or window).' },
  ended_by_admin: { title: ENDED, text: 'An administrator ended the on-behalf session.' },
  kill_switch: { title: ENDED, text: 'An administrator ended all of your on-behalf sessions.' },
  ended_by_customer: { title: ENDED, text: 'The customer ended the on-behalf session.' },
  agent_logout: { title: ENDED, text: 'You signed out of Behalf, which ends your on-behalf sessions.' },
  expired: { title: ENDED, text: 'The on-behalf session reached its time limit.' },
  policy_revoked: { title: ENDED, text: 'Your permission or the customer’s account changed, so the on-behalf session ended.' },
  agent_inactive: { title: ENDED, text: 'Your staff account is no longer active, so the on-behalf session ended.' },
  cannot_renew: {
    title: ENDED,
    text: 'The on-behalf session’s access could not be renewed (the re-authentication is too old). Start login on behalf again from the portal.',
  },
  signin_expired: { title: 'You are signed out', text: 'Your sign-in has expired. Please sign in again.' },
  account_changed: {
    title: 'You are signed out',
    text: 'Another account signed in at Behalf in this browser, so you were signed out here. Please sign in again.',
  },
};

/** Whether Behalf says the session still runs; when it cannot be asked, assume so (and warn). */
async function stillRunning(deps: StoreDeps, sessionId: string): Promise<boolean> {
  try {
    return (await deps.behalf.sessionStatus(deps.store, sessionId)).active;
  } catch {
    return true;
  }
}

/** Signed-out reasons that are about a customer's own sign-in; the rest end an on-behalf session. */
const CUSTOMER_REASONS = new Set(['signin_expired', 'account_changed']);

export function authRoutes(deps: StoreDeps): Router {
  const router = new Router();
  const home = `/${deps.store.slug}/`;

  router.get('/signin', async (ctx) => {
    const returnTo = safeReturnTo(deps, queryParam(ctx.query, 'returnTo'));
    if (ctx.state.session?.user) return ctx.redirect(returnTo);
    ctx.redirect(await startFlow(ctx, deps, 'sign-in', { returnTo }));
  });

  router.get('/callback', async (ctx) => {
    ctx.redirect(await completeFlow(ctx, deps));
  });

  router.post('/signout', async (ctx) => {
    const session = ctx.state.session;
    const user = session?.user;
    deps.sessions.destroy(ctx, deps.store, session);
    ctx.state.session = undefined;
    if (user?.mode === 'on-behalf') {
      await endOnBehalfQuietly(deps, user.sessionId);
      return seeOther(ctx, `${home}signed-out?reason=ended_by_agent`);
    }
    // RP-initiated logout: Behalf asks to confirm, then comes back to the store's home page.
    seeOther(ctx, user ? await deps.oidc.endSessionUrl(deps.store, user.idToken) : home);
  });

  // The entry URL the portal opens in a new tab: the agent re-authenticates at Behalf, naming the customer.
  // A running on-behalf session in this browser would end with the new one: the agent confirms first.
  router.get('/on-behalf/start', async (ctx) => {
    const customer = queryParam(ctx.query, 'customer');
    if (!isUuid(customer)) throw badRequest('This login-on-behalf link does not name a customer account. Open it again from the portal.');
    const user = ctx.state.session?.user;
    // A session that ended elsewhere (say, from the portal) has nothing left to warn about.
    if (user?.mode === 'on-behalf' && (await stillRunning(deps, user.sessionId))) {
      const same = user.customerId === customer;
      return deps.render.storePage(ctx, deps.store, ctx.state.session, 'on-behalf-switch', {
        title: same ? `You are already acting as ${user.customerName}` : 'Starting this ends your current session',
        current: user.customerName,
        same,
        customer,
      });
    }
    ctx.redirect(await startFlow(ctx, deps, 'on-behalf', { customer }));
  });

  // The agent confirmed: the running session ends now, as the button said (which also frees its
  // place under the agent's session limit), and tabs still showing it will say so.
  router.post('/on-behalf/start', async (ctx) => {
    const customer = (ctx.request.body as Record<string, unknown>).customer;
    if (typeof customer !== 'string' || !isUuid(customer))
      throw badRequest('This login-on-behalf form does not name a customer account. Open it again from the portal.');
    const session = ctx.state.session;
    const user = session?.user;
    if (session && user?.mode === 'on-behalf') {
      await endOnBehalfQuietly(deps, user.sessionId);
      const fresh = deps.sessions.rotate(ctx, deps.store, session, {
        who: `your session as ${user.customerName}`,
        now: 'you started another login on behalf',
      });
      fresh.user = undefined;
      ctx.state.session = fresh;
    }
    seeOther(ctx, await startFlow(ctx, deps, 'on-behalf', { customer }));
  });

  router.post('/on-behalf/end', async (ctx) => {
    const session = ctx.state.session;
    const user = session?.user;
    if (user?.mode !== 'on-behalf') return seeOther(ctx, home);
    let reason = 'ended_by_agent';
    try {
      await deps.behalf.endSession(deps.store, user.sessionId);
    } catch {
      reason = 'end_unconfirmed';
    }
    deps.sessions.destroy(ctx, deps.store, session);
    ctx.state.session = undefined;
    seeOther(ctx, `${home}signed-out?reason=${reason}`);
  });

  router.get('/signed-out', (ctx) => {
    const reason = queryParam(ctx.query, 'reason') ?? 'ended';
    const page = SIGNED_OUT[reason] ?? SIGNED_OUT.ended!;
    // Every reason but the customer's own sign-in ending is about an on-behalf session: the page is the agent's.
    const forAgent = !CUSTOMER_REASONS.has(reason);
    deps.render.storePage(ctx, deps.store, ctx.state.session, 'signed-out', {
      title: page.title,
      text: page.text,
      forAgent,
      portalUrl: deps.portalUrl,
    });
  });

  return router;
}

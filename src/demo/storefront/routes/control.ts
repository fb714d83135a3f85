/**
 * The customer in control (issue #19), in the store's account pages: the
 * access policy ("support may act for me: without asking / only after I
 * approve / never"), the agents' requests to approve or deny (the emailed
 * link lands here, and the customer must be signed in as themselves), and
 * "this wasn't me" on a session in the access history. Refused while an agent
 * acts on behalf (requireCustomer), and Behalf's API refuses such tokens too.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { accountToken, requireCustomer, type SignedIn } from '../access.js';
import { BehalfApiError } from '../behalf-api.js';
import type { CustomerUser } from '../browser-sessions.js';
import type { ControlApi, AccessPolicy } from '../control-api.js';
import type { StoreDeps } from '../deps.js';
import { badRequest, formField, isUuid, notFound, PageError, RedirectSignal, seeOther } from '../http.js';

const ACCESS = 'Support access';
const POLICIES: Record<AccessPolicy, string> = {
  without_asking: 'Support may act for me without asking',
  after_approval: 'Only after I approve each time',
  never: 'Never',
};
const DURATIONS: Record<string, string> = { session: 'For this session only', '24h': 'For 24 hours', '7d': 'For 7 days' };

export function controlRoutes(deps: StoreDeps, api: ControlApi): Router {
  const router = new Router();
  const base = `/${deps.store.slug}`;

  /** The customer's token for Behalf's API; on a form post without one, back to the page with a note. */
  async function token(ctx: Context, signedIn: SignedIn<CustomerUser>, back: string): Promise<string> {
    const value = await accountToken(ctx, deps, signedIn);
    if (value) return value;
    signedIn.session.flash = { kind: 'error', text: 'Behalf could not be reached just now. Please try again.' };
    throw new RedirectSignal(back);
  }

  function failed(caught: unknown): never {
    if (!(caught instanceof BehalfApiError)) throw caught;
    if (caught.status === 404) throw notFound('request');
    if (caught.status === 400 || caught.status === 409) throw new PageError(409, 'That did not work', caught.message);
    throw new PageError(502, 'Behalf is unavailable', 'Try again in a moment.', caught.message);
  }

  router.get('/account/access', async (ctx) => {
    const signedIn = requireCustomer(ctx, deps, ACCESS);
    const value = await token(ctx, signedIn, `${base}/account`);
    const [policy, requests] = await Promise.all([api.policy(value), api.requests(value)]).catch(failed);
    deps.render.storePage(ctx, deps.store, ctx.state.session, 'access', {
      title: ACCESS,
      policy,
      labels: POLICIES,
      pending: requests.filter((r) => r.status === 'pending'),
      standing: requests.filter((r) => r.status === 'approved' && r.valid_until && new Date(r.valid_until) > new Date()),
    });
  });

  router.post('/account/access', async (ctx) => {
    const signedIn = requireCustomer(ctx, deps, ACCESS);
    const choice = formField(ctx.request.body, 'policy', { required: true, max: 20 });
    if (!(choice in POLICIES)) throw badRequest('Choose one of the options.');
    const value = await token(ctx, signedIn, `${base}/account/access`);
    await api.setPolicy(value, choice as AccessPolicy).catch(failed);
    signedIn.session.flash = { kind: 'info', text: `Saved: ${POLICIES[choice as AccessPolicy]}.` };
    seeOther(ctx, `${base}/account/access`);
  });

  router.get('/account/approvals/:id', async (ctx) => {
    const signedIn = requireCustomer(ctx, deps, ACCESS);
    const id = (ctx.params as Record<string, string | undefined>).id;
    if (!isUuid(id)) throw notFound('request');
    const value = await token(ctx, signedIn, `${base}/account/access`);
    const request = await api.request(value, id).catch(failed);
    deps.render.storePage(ctx, deps.store, ctx.state.session, 'approval', {
      title: 'Support asks to act for you',
      request,
      durations: DURATIONS,
    });
  });

  for (const answer of ['approve', 'deny'] as const) {
    router.post(`/account/approvals/:id/${answer}`, async (ctx) => {
      const signedIn = requireCustomer(ctx, deps, ACCESS);
      const id = (ctx.params as Record<string, string | undefined>).id;
      if (!isUuid(id)) throw notFound('request');
      const duration = answer === 'approve' ? formField(ctx.request.body, 'duration', { required: true, max: 10 }) : '';
      if (answer === 'approve' && !(duration in DURATIONS)) throw badRequest('Choose for how long.');
      const value = await token(ctx, signedIn, `${base}/account/approvals/${id}`);
      const decided = await (answer === 'approve' ? api.approve(value, id, duration) : api.deny(value, id)).catch(failed);
      signedIn.session.flash = {
        kind: 'info',
        text:
          answer === 'approve'
            ? `You approved ${decided.agent.name} (${DURATIONS[duration]!.toLowerCase()}).`
            : `You denied the request of ${decided.agent.name}.`,
      };
      seeOther(ctx, `${base}/account/access`);
    });
  }

  router.get('/account/history/:id/report', (ctx) => {
    requireCustomer(ctx, deps, 'The account access history');
    const id = (ctx.params as Record<string, string | undefined>).id;
    if (!isUuid(id)) throw notFound('on-behalf session');
    deps.render.storePage(ctx, deps.store, ctx.state.session, 'report', { title: 'This wasn’t me', sessionId: id });
  });

  router.post('/account/history/:id/report', async (ctx) => {
    const signedIn = requireCustomer(ctx, deps, 'The account access history');
    const id = (ctx.params as Record<string, string | undefined>).id;
    if (!isUuid(id)) throw notFound('on-behalf session');
    const comment = formField(ctx.request.body, 'comment', { max: 2000 });
    const value = await token(ctx, signedIn, `${base}/account/history`);
    await api.report(value, id, comment).catch(failed);
    signedIn.session.flash = { kind: 'info', text: 'Thank you. The store’s administrators have your report and will look into it.' };
    seeOther(ctx, `${base}/account/history`);
  });

  return router;
}

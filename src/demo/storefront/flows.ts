/**
 * The authorization requests the storefront sends through the browser, and
 * their common callback (one registered redirect URI per store):
 * - sign-in: the customer signs in (code + PKCE, `resource` = the orders API,
 *   its scopes): the access token is a JWT for the orders API;
 * - renew: the same, silently (`prompt=none`), when that JWT runs out;
 * - account-token: silently, without `resource`: an opaque Behalf token for
 *   the customer API (Behalf's resource indicators bind every token of a code
 *   to the code's resource, so this needs its own authorization request);
 * - on-behalf: the agent's re-authentication (`prompt=login`, `on_behalf_of`),
 *   pushed to Behalf first (RFC 9126, PAR) so the customer's id never appears
 *   in the browser's URL, then the token exchange (on-behalf.ts).
 */
import * as client from 'openid-client';
import type { Context } from 'koa';
import type { StoreDeps } from './deps.js';
import { badRequest, PageError, queryParam } from './http.js';
import { establishOnBehalf, endOnBehalfQuietly } from './on-behalf.js';
import { displayName, oauthError } from './oidc.js';
import { heldToken, type PendingFlow, type Session } from './browser-sessions.js';

const CUSTOMER_SCOPE = 'openid profile email';
const ORDERS_SCOPE = 'orders:read orders:write';
/** After a failed silent request for the customer-API token, wait this long before trying again. */
const ACCOUNT_TOKEN_RETRY_MS = 60_000;

/** A path of this store, or the store's home: never another site (no open redirect). */
export function safeReturnTo(deps: StoreDeps, path: string | undefined): string {
  const base = `/${deps.store.slug}/`;
  if (!path || !path.startsWith(base) || path.includes('//') || path.includes('\\') || path.length > 500) return base;
  return path;
}

/** Starts an authorization request; returns Behalf's URL to send the browser to. */
export async function startFlow(
  ctx: Context,
  deps: StoreDeps,
  kind: PendingFlow['kind'],
  options: { returnTo?: string; customer?: string } = {},
): Promise<string> {
  const session = deps.sessions.ensure(ctx, deps.store, ctx.state.session);
  ctx.state.session = session;
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const params: Record<string, string> = { nonce };
  if (kind === 'sign-in' || kind === 'renew')
    Object.assign(params, { scope: `${CUSTOMER_SCOPE} ${ORDERS_SCOPE}`, resource: deps.ordersResource });
  if (kind === 'renew' || kind === 'account-token') params.prompt = 'none';
  if (kind === 'account-token') params.scope = 'openid';
  if (kind === 'on-behalf') Object.assign(params, { scope: 'openid', prompt: 'login', on_behalf_of: options.customer! });
  const url = await deps.oidc.authorizationUrl(deps.store, verifier, state, params, { pushed: kind === 'on-behalf' });
  deps.sessions.addPending(session, state, {
    kind,
    verifier,
    nonce,
    returnTo: safeReturnTo(deps, options.returnTo),
    createdAt: Date.now(),
    ...(options.customer ? { customer: options.customer } : {}),
  });
  return url;
}

/** Where the browser goes after the sign-out that a failed silent renewal means. */
function signedOut(deps: StoreDeps, reason: string): string {
  return `/${deps.store.slug}/signed-out?reason=${reason}`;
}

/** GET /<store>/callback: finishes whichever flow `state` names; returns where to go next. */
export async function completeFlow(ctx: Context, deps: StoreDeps): Promise<string> {
  const query = ctx.query as Record<string, string | string[] | undefined>;
  const session = ctx.state.session;
  const flow = deps.sessions.takePending(session, queryParam(query, 'state'));
  if (!flow || !session) {
    throw badRequest(
      'This sign-in response does not belong to a sign-in started in this browser, or it was already used or has expired, so this store did not use it. Start again from the store.',
    );
  }
  const error = queryParam(query, 'error');
  if (error) return failedFlow(ctx, deps, session, flow, error, queryParam(query, 'error_description'));

  const checks = { verifier: flow.verifier, state: queryParam(query, 'state')!, ...(flow.nonce ? { nonce: flow.nonce } : {}) };
  let tokens: Awaited<ReturnType<typeof deps.oidc.redeem>>;
  try {
    tokens = await deps.oidc.redeem(
      deps.store,
      ctx.querystring,
      checks,
      flow.kind === 'sign-in' || flow.kind === 'renew' ? { resource: deps.ordersResource } : {},
    );
  } catch (caught) {
    const said = oauthError(caught);
    if (!said) throw caught;
    throw new PageError(
      400,
      'Sign-in failed',
      'Behalf did not accept this sign-in response. Start again from the store.',
      said.description ?? said.code,
    );
  }
  const claims = tokens.claims();
  if (!claims) throw new PageError(502, 'Sign-in failed', 'Behalf sent no ID token.');

  const user = session.user;
  if (flow.kind === 'sign-in') {
    // An on-behalf session this browser had here ends with the customer's own sign-in.
    if (user?.mode === 'on-behalf') await endOnBehalfQuietly(deps, user.sessionId);
    const fresh = deps.sessions.rotate(ctx, deps.store, session);
    ctx.state.session = fresh;
    fresh.user = {
      mode: 'customer',
      accountId: claims.sub,
      name: displayName(claims),
      ...(typeof claims.email === 'string' ? { email: claims.email } : {}),
      idToken: tokens.id_token!,
      orders: heldToken(tokens.access_token, tokens.expires_in),
    };
    return flow.returnTo;
  }

  // A silent answer for someone else (another account signed in at Behalf meanwhile) must never be taken.
  if (flow.kind === 'renew' || flow.kind === 'account-token') {
    if (user?.mode !== 'customer' || user.accountId !== claims.sub) {
      deps.sessions.destroy(ctx, deps.store, session);
      return signedOut(deps, 'account_changed');
    }
    if (flow.kind === 'renew') {
      user.orders = heldToken(tokens.access_token, tokens.expires_in);
      user.idToken = tokens.id_token!;
    } else {
      user.account = heldToken(tokens.access_token, tokens.expires_in);
      user.accountUnavailableUntil = undefined;
    }
    return flow.returnTo;
  }

  // on-behalf: this access token is the agent's own, bound at Behalf to this re-authentication.
  const onBehalf = await establishOnBehalf(deps, flow.customer!, heldToken(tokens.access_token, tokens.expires_in));
  // A session this browser already had (another customer, an earlier on-behalf session) ends now;
  // the agent was told so before the re-authentication (routes/auth.ts), and a tab still showing it
  // learns so at its next form (sessions.staleForm).
  if (user?.mode === 'on-behalf') await endOnBehalfQuietly(deps, user.sessionId);
  const before = user ? (user.mode === 'on-behalf' ? `your session as ${user.customerName}` : `${user.name}’s sign-in`) : undefined;
  // Ended already when the agent confirmed the switch (routes/auth.ts): said once more here.
  const endedEarlier = !user && session.replaced?.now === 'you started another login on behalf' ? session.replaced.who : undefined;
  const fresh = deps.sessions.rotate(
    ctx,
    deps.store,
    session,
    before ? { who: before, now: `you started acting as ${onBehalf.customerName}` } : undefined,
  );
  ctx.state.session = fresh;
  fresh.user = onBehalf;
  const ended = before ?? endedEarlier;
  fresh.flash = {
    kind: 'info',
    text: `${ended ? `${capitalise(ended)} has ended. ` : ''}You are now acting as ${onBehalf.customerName}. Everything you do is recorded under your own name.`,
  };
  return `/${deps.store.slug}/`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** How Behalf's re-authentication screen words a refusal the agent acknowledged (`error_description`). */
const REFUSED = 'Login on behalf refused: ';

/** Behalf answered the authorization request with an error (RFC 6749 §4.1.2.1). */
function failedFlow(
  ctx: Context,
  deps: StoreDeps,
  session: Session,
  flow: PendingFlow,
  error: string,
  description: string | undefined,
): string {
  if (flow.kind === 'renew') {
    // The silent renewal needs Behalf's sign-in session; without it the customer signs in again.
    deps.sessions.destroy(ctx, deps.store, session);
    return signedOut(deps, 'signin_expired');
  }
  if (flow.kind === 'account-token') {
    if (session.user?.mode === 'customer') session.user.accountUnavailableUntil = Date.now() + ACCOUNT_TOKEN_RETRY_MS;
    return flow.returnTo;
  }
  const forAgent = flow.kind === 'on-behalf';
  // Behalf's refusal page sends the agent back with the refusal in words (not a cancellation).
  const refusal = forAgent && error === 'access_denied' && description?.startsWith(REFUSED) ? description.slice(REFUSED.length) : undefined;
  if (refusal) throw new PageError(403, 'Login on behalf was refused', refusal, undefined, true);
  if (error === 'access_denied') {
    if (forAgent)
      throw new PageError(
        200,
        'Login on behalf was cancelled',
        'You left Behalf’s confirmation screen without confirming, so no on-behalf session was started.',
        undefined,
        true,
      );
    throw new PageError(200, 'Sign-in was cancelled', 'You left the sign-in page without signing in, so you are not signed in.');
  }
  const title = forAgent ? 'Login on behalf was refused' : 'Sign-in failed';
  throw new PageError(
    400,
    title,
    forAgent ? 'Behalf refused to start this login on behalf; the details below say why.' : 'Behalf refused the request.',
    description ? `${error}: ${description}` : error,
    forAgent,
  );
}

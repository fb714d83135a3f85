/**
 * Login on behalf at the storefront, after the agent's re-authentication:
 * the two RFC 8693 exchanges (an access token for the orders API, an ID
 * token for the banner), renewal of the orders token by exchanging again
 * before it runs out, watching the session at Behalf, and ending it.
 */
import { decodeJwt } from 'jose';
import type { Context } from 'koa';
import { BehalfApiError, type SessionStatus } from './behalf-api.js';
import type { StoreDeps } from './deps.js';
import { PageError, RedirectSignal } from './http.js';
import { newDpopKeyPair } from './dpop.js';
import { ID_TOKEN_TYPE, oauthError } from './oidc.js';
import { heldToken, needsRenewal, type HeldToken, type OnBehalfUser, type Session } from './browser-sessions.js';

/** Why a session ended, as Behalf names it; anything else is shown as "ended". */
export const END_REASONS = new Set([
  'ended_by_client',
  'ended_by_customer',
  'ended_by_admin',
  'ended_by_agent',
  'kill_switch',
  'agent_logout',
  'expired',
  'policy_revoked',
  'agent_inactive',
  'cannot_renew',
]);

function refused(caught: unknown): never {
  const said = oauthError(caught);
  if (!said) throw caught;
  throw new PageError(
    403,
    'Login on behalf was refused',
    'Behalf refused to let you act as this customer; the details below say why.',
    said.description ?? said.code,
    true,
  );
}

/** The back-channel exchanges; the ID token is verified before anything is trusted from it. */
export async function establishOnBehalf(deps: StoreDeps, customerId: string, actor: HeldToken): Promise<OnBehalfUser> {
  // This session's own key: its on-behalf tokens are bound to it (RFC 9449), useless to anyone who copies them.
  const dpop = await newDpopKeyPair();
  const access = await deps.oidc
    .exchangeOnBehalf(deps.store, customerId, actor.value, { resource: deps.ordersResource }, dpop)
    .catch(refused);
  const id = await deps.oidc
    .exchangeOnBehalf(deps.store, customerId, actor.value, { requested_token_type: ID_TOKEN_TYPE }, dpop)
    .catch(refused);
  if (id.issued_token_type !== ID_TOKEN_TYPE)
    throw new PageError(502, 'Login on behalf failed', 'Behalf did not return an ID token for the banner.');
  let banner;
  try {
    banner = await deps.oidc.verifyBannerToken(deps.store, id.access_token, customerId);
  } catch {
    // Fail closed: without a verified statement of who acts for whom there is no banner, so no session,
    // and the one Behalf just opened is ended (Behalf ends only this client's own sessions).
    await endOnBehalfQuietly(deps, unverifiedSessionId(access.access_token));
    throw new PageError(
      502,
      'Login on behalf failed',
      'The identity token from Behalf could not be verified, so the session was not started.',
    );
  }
  const user: OnBehalfUser = {
    mode: 'on-behalf',
    customerId: banner.customerId,
    customerName: banner.customerName,
    agentId: banner.agentId,
    agentName: banner.agentName,
    sessionId: banner.sessionId,
    actor,
    orders: heldToken(access.access_token, access.expires_in),
    dpop,
    ordersBound: access.token_type === 'dpop',
    statusCheckedAt: Date.now(),
  };
  // The banner's reason and time left; without them the banner still names who acts for whom,
  // and the next page load asks again.
  const status = await deps.behalf.sessionStatus(deps.store, user.sessionId).catch(() => undefined);
  if (status) noteStatus(user, status);
  return user;
}

/** Keeps what the banner shows from Behalf's latest word on the session. */
function noteStatus(user: OnBehalfUser, status: SessionStatus): void {
  const endsAt = Date.parse(status.expires_at);
  if (Number.isFinite(endsAt)) user.sessionEndsAt = endsAt;
  if (typeof status.reason === 'string') user.reason = status.reason;
  if (status.ticket !== undefined) user.ticket = status.ticket;
}

/** The `obo_sid` of a token we cannot otherwise use, only to end that session. */
function unverifiedSessionId(token: string): string | undefined {
  try {
    const sid = decodeJwt(token).obo_sid;
    return typeof sid === 'string' ? sid : undefined;
  } catch {
    return undefined;
  }
}

/** Ends a session at Behalf when nothing more can be done about a failure (best effort, never throws). */
export async function endOnBehalfQuietly(deps: StoreDeps, sessionId: string | undefined): Promise<void> {
  if (!sessionId) return;
  await deps.behalf.endSession(deps.store, sessionId).catch(() => undefined);
}

/** Clears the storefront session and sends the browser to the page that says the session ended, and why. */
export function sessionEnded(ctx: Context, deps: StoreDeps, reason: string | null | undefined): never {
  deps.sessions.destroy(ctx, deps.store, ctx.state.session);
  ctx.state.session = undefined;
  const known = reason && END_REASONS.has(reason) ? reason : 'ended';
  throw new RedirectSignal(`/${deps.store.slug}/signed-out?reason=${known}`);
}

/** Asks Behalf whether the session still runs; an ended one ends here too. Unreachable Behalf: fail closed. */
export async function checkSessionStatus(
  ctx: Context,
  deps: StoreDeps,
  session: Session,
  user: OnBehalfUser,
  force = false,
): Promise<void> {
  const now = Date.now();
  if (!force && now - user.statusCheckedAt < deps.statusCacheMs) return;
  let status;
  try {
    status = await deps.behalf.sessionStatus(deps.store, user.sessionId);
  } catch (caught) {
    if (caught instanceof BehalfApiError && caught.status === 404) sessionEnded(ctx, deps, 'ended');
    throw new PageError(
      503,
      'Cannot confirm the on-behalf session',
      'Behalf could not be asked whether this on-behalf session is still active, so nothing is shown or changed. Try again in a moment.',
    );
  }
  if (!status.active) sessionEnded(ctx, deps, status.end_reason);
  noteStatus(user, status);
  if (session.user === user) user.statusCheckedAt = now;
}

/**
 * A usable orders token for the on-behalf user: exchanged again with the
 * actor token shortly before it runs out. Parallel requests share one
 * exchange. The actor token itself cannot be renewed (that is what the
 * re-authentication is for), so its own last minute is used for a final
 * renewal that lasts as long as Behalf allows; after that the session ends.
 */
export async function onBehalfOrdersToken(
  ctx: Context,
  deps: StoreDeps,
  session: Session,
  user: OnBehalfUser,
  force = false,
): Promise<string> {
  const now = Date.now();
  const actorLeft = user.actor.expiresAt - now;
  const ordersLeft = user.orders.expiresAt - now;
  const lastChance = needsRenewal(user.actor, deps.renewBeforeMs, now) && !user.finalRenewalDone;
  if (!force && !needsRenewal(user.orders, deps.renewBeforeMs, now) && !lastChance) return user.orders.value;
  if (actorLeft < 5_000) {
    if (ordersLeft > 5_000 && !force) return user.orders.value;
    await endOnBehalfQuietly(deps, user.sessionId);
    sessionEnded(ctx, deps, 'cannot_renew');
  }
  session.renewing ??= (async () => {
    try {
      const access = await deps.oidc.exchangeOnBehalf(
        deps.store,
        user.customerId,
        user.actor.value,
        { resource: deps.ordersResource },
        user.dpop,
      );
      user.orders = heldToken(access.access_token, access.expires_in);
      user.ordersBound = access.token_type === 'dpop';
      if (lastChance) user.finalRenewalDone = true;
    } finally {
      session.renewing = undefined;
    }
  })();
  try {
    await session.renewing;
  } catch (caught) {
    if (!oauthError(caught)) throw caught;
    // Refused: the session ended (or the agent lost the permission). Behalf says which.
    await checkSessionStatus(ctx, deps, session, user, true);
    await endOnBehalfQuietly(deps, user.sessionId);
    sessionEnded(ctx, deps, 'cannot_renew');
  }
  return user.orders.value;
}

/** What every portal route needs, and the checks they share: signed in, admin, agent, local return paths. */
import type { Context } from 'koa';
import { listAgentSessions } from '../agent-sessions.js';
import { forbidden, SignInRequired, type BehalfApi } from '../behalf-api.js';
import type { RelyingParty } from '../oidc.js';
import type { PortalRenderer } from '../render.js';
import { csrfToken, type MemorySessions, type PortalSession, type SignedInUser } from '../session.js';

export interface PortalDeps {
  sessions: MemorySessions;
  rp: RelyingParty;
  api: BehalfApi;
  renderer: PortalRenderer;
  storefrontUrl: string;
}

/** A path on the portal itself ("/contacts?q=x"), never another origin ("//evil", "/\\evil", "https://…"). */
export function localPath(value: unknown, fallback = '/contacts'): string {
  if (typeof value !== 'string' || value.length > 1000 || !/^\/(?![/\\])/.test(value)) return fallback;
  // Control characters (a header split, a tab browsers strip to make "/\t/evil" into "//evil") are never part of a path here.
  if ([...value].some((char) => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f)) return fallback;
  return value;
}

/** The signed-in staff member with a usable access token; otherwise SignInRequired (the error handler sends them to sign in). */
export function requireUser(deps: PortalDeps, ctx: Context): { session: PortalSession; user: SignedInUser } {
  const session = deps.sessions.current(ctx);
  const user = session?.user;
  // A little early: the token must still be valid when Behalf receives it.
  if (!session || !user || user.accessTokenExpiresAt - 5_000 < Date.now()) throw new SignInRequired('not signed in');
  return { session, user };
}

/**
 * Whether the staff member is an admin. The ID token names no roles, so the
 * portal asks the admin API itself once per session: 200 is an admin, 403 is not.
 */
export async function isAdmin(deps: PortalDeps, session: PortalSession, user: SignedInUser): Promise<boolean> {
  if (session.isAdmin === undefined) {
    const response = await deps.api.request('GET', '/admin/on-behalf/sessions', user.accessToken, { limit: '1' });
    if (response.status === 403) session.isAdmin = false;
    else session.isAdmin = (await deps.api.check(response)).status === 200;
  }
  return session.isAdmin;
}

/**
 * Whether the staff member holds `security:loginOnBehalf` for some store, as Behalf's agent API
 * says (asked once per session, with the sessions it also returns): such staff get "My on-behalf sessions".
 */
export async function mayLoginOnBehalf(deps: PortalDeps, session: PortalSession, user: SignedInUser): Promise<boolean> {
  session.mayLoginOnBehalf ??= (await listAgentSessions(deps.api, user.accessToken, { active: true, limit: 1 })).may_login_on_behalf;
  return session.mayLoginOnBehalf;
}

export async function requireAdmin(deps: PortalDeps, ctx: Context): Promise<{ session: PortalSession; user: SignedInUser }> {
  const signedIn = requireUser(deps, ctx);
  if (!(await isAdmin(deps, signedIn.session, signedIn.user))) throw forbidden();
  return signedIn;
}

/** Renders a page with the navigation that fits the visitor (and hands out the one-time flash message). */
export async function render(
  deps: PortalDeps,
  ctx: Context,
  template: string,
  data: { title: string; section?: string } & Record<string, unknown>,
  status = 200,
): Promise<void> {
  const session = deps.sessions.current(ctx);
  const user = session?.user;
  const flash = session?.flash;
  if (session) session.flash = undefined;
  const usable = session && user && user.accessTokenExpiresAt > Date.now();
  const admin = usable ? await isAdmin(deps, session, user).catch(() => false) : false;
  const agent = usable && !admin ? await mayLoginOnBehalf(deps, session, user).catch(() => false) : false;
  deps.renderer.page(
    ctx,
    status,
    template,
    { ...data, csrf: session ? csrfToken(session) : '' },
    {
      ...(user ? { user: user.name, csrf: csrfToken(session!) } : {}),
      isAdmin: admin,
      mySessions: admin || agent,
      ...(flash ? { flash } : {}),
    },
  );
}

/**
 * One query parameter as a trimmed string ('' when absent or repeated: the
 * portal never forwards arrays). Not otherwise judged here: Behalf validates
 * and its 400 reaches the page with the reason.
 */
export function param(ctx: Context, name: string): string {
  const value = ctx.query[name];
  return typeof value === 'string' ? value.trim() : '';
}

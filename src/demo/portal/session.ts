/**
 * Browser sessions of the portal. The browser holds only a random id in a
 * signed, HttpOnly, SameSite=Lax cookie of the portal's own name; tokens stay
 * on the server.
 *
 * Sessions live in this process's memory (a Map): fine for a demo with one
 * instance, lost on restart (staff simply sign in again). A real deployment
 * with several instances would keep them in a shared store (Redis, the
 * database) behind the same small interface.
 */
import { randomBytes } from 'node:crypto';
import type { Context, Next } from 'koa';
import Tokens from 'csrf';

export const SESSION_COOKIE = 'portal.sid';

export interface SignedInUser {
  sub: string;
  name: string;
  email: string | null;
  accessToken: string;
  /** Epoch ms; once it has passed the portal signs in again (silently, while Behalf's session lasts). */
  accessTokenExpiresAt: number;
  idToken: string | undefined;
  /** Epoch ms of the sign-in. */
  signedInAt: number;
  /** This sign-in was the retry after Behalf refused the previous token: if this one is refused too, stop. */
  afterRefusal: boolean;
}

export interface PortalSession {
  id: string;
  /** Per-session secret from which every form's CSRF token is derived. */
  csrfSecret: string;
  createdAt: number;
  lastSeen: number;
  /** An authorization request in flight: what the callback must check. */
  pendingLogin?: { state: string; nonce: string; verifier: string; returnTo: string; afterRefusal: boolean };
  user?: SignedInUser;
  /** Learned from Behalf's admin API on first need (the ID token carries no roles). */
  isAdmin?: boolean;
  /** Learned from Behalf's agent API on first need: whether "My on-behalf sessions" belongs in the navigation. */
  mayLoginOnBehalf?: boolean;
  /** A one-time message for the next page ("Session ended"). */
  flash?: string;
  /** Behalf refused this session's token; the next sign-in is the retry. */
  refused?: boolean;
}

export interface SessionOptions {
  secureCookies: boolean;
  /** Idle time after which a session is forgotten (default 8 h). */
  idleMs?: number;
  /** Bound on memory: beyond this many sessions, the least recently created go first. */
  maxSessions?: number;
}

const tokens = new Tokens();

export class MemorySessions {
  private readonly sessions = new Map<string, PortalSession>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly idleMs: number;
  private readonly maxSessions: number;

  constructor(private readonly options: SessionOptions) {
    this.idleMs = options.idleMs ?? 8 * 60 * 60 * 1000;
    this.maxSessions = options.maxSessions ?? 10_000;
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  private sweep(now = Date.now()): void {
    for (const [id, session] of this.sessions) if (now - session.lastSeen > this.idleMs) this.sessions.delete(id);
  }

  private create(): PortalSession {
    while (this.sessions.size >= this.maxSessions) this.sessions.delete(this.sessions.keys().next().value!);
    const now = Date.now();
    const session: PortalSession = {
      id: randomBytes(32).toString('base64url'),
      csrfSecret: tokens.secretSync(),
      createdAt: now,
      lastSeen: now,
    };
    this.sessions.set(session.id, session);
    return session;
  }

  private setCookie(ctx: Context, id: string | null): void {
    ctx.cookies.set(SESSION_COOKIE, id, {
      signed: true,
      httpOnly: true,
      sameSite: 'lax',
      secure: this.options.secureCookies,
      path: '/',
      overwrite: true,
    });
  }

  /** The request's session, if its cookie names a live one. */
  current(ctx: Context): PortalSession | undefined {
    const cached = (ctx.state as { portalSession?: PortalSession }).portalSession;
    if (cached) return cached;
    const id = ctx.cookies.get(SESSION_COOKIE, { signed: true });
    const session = id ? this.sessions.get(id) : undefined;
    if (!session || Date.now() - session.lastSeen > this.idleMs) return undefined;
    session.lastSeen = Date.now();
    (ctx.state as { portalSession?: PortalSession }).portalSession = session;
    return session;
  }

  /** The request's session, created (and its cookie set) if there is none. */
  ensure(ctx: Context): PortalSession {
    const existing = this.current(ctx);
    if (existing) return existing;
    const session = this.create();
    this.setCookie(ctx, session.id);
    (ctx.state as { portalSession?: PortalSession }).portalSession = session;
    return session;
  }

  /** A fresh id after sign-in, so an id planted before it (session fixation) is worth nothing. */
  regenerate(ctx: Context): PortalSession {
    const old = this.current(ctx);
    if (old) this.sessions.delete(old.id);
    const session = this.create();
    this.setCookie(ctx, session.id);
    (ctx.state as { portalSession?: PortalSession }).portalSession = session;
    return session;
  }

  destroy(ctx: Context): void {
    const session = this.current(ctx);
    if (session) this.sessions.delete(session.id);
    (ctx.state as { portalSession?: PortalSession }).portalSession = undefined;
    this.setCookie(ctx, null);
  }

  close(): void {
    clearInterval(this.sweeper);
    this.sessions.clear();
  }
}

export function csrfToken(session: PortalSession): string {
  return tokens.create(session.csrfSecret);
}

export class CsrfError extends Error {
  override name = 'CsrfError';
}

/** Every POST must carry a token derived from its session's secret, in the form field `csrf`. */
export function requireCsrf(sessions: MemorySessions) {
  return async function csrfCheck(ctx: Context, next: Next): Promise<void> {
    if (ctx.method === 'POST') {
      const session = sessions.current(ctx);
      const token = (ctx.request as { body?: Record<string, unknown> }).body?.csrf;
      if (!session || typeof token !== 'string' || !tokens.verify(session.csrfSecret, token))
        throw new CsrfError('missing or invalid CSRF token');
    }
    await next();
  };
}

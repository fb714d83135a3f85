/**
 * Storefront sessions, one per browser and store.
 *
 * They live IN MEMORY (a Map in this process): fine for a demo, lost on
 * restart, and not shared between instances; a real shop would keep them in
 * Redis or a database. The browser holds only a random id in a signed,
 * HttpOnly, SameSite=Lax cookie named per store (`shop.<store>.sid`) with the
 * store's path, so the two stores on one origin, Behalf and the portal on
 * other ports of localhost never overwrite each other's cookies.
 */
import { randomBytes } from 'node:crypto';
import Tokens from 'csrf';
import type { Context } from 'koa';
import type { DpopKeyPair } from './dpop.js';
import type { StoreDefinition } from './stores.js';

/** A token we hold and when it stops being usable (epoch ms). */
export interface HeldToken {
  value: string;
  expiresAt: number;
  /** How long it lived when issued (ms): renewal never waits for less than this is ever left. */
  lifetimeMs: number;
}

/** A token response's access token as held: `expires_in` seconds from now. */
export function heldToken(value: string, expiresIn: number | undefined, fallbackSeconds = 60): HeldToken {
  const lifetimeMs = (expiresIn ?? fallbackSeconds) * 1000;
  return { value, expiresAt: Date.now() + lifetimeMs, lifetimeMs };
}

/**
 * When to renew a token: `renewBeforeMs` before it expires, but never a
 * margin as long as the token's whole life (that would renew on every request).
 */
export function needsRenewal(token: HeldToken, renewBeforeMs: number, now = Date.now()): boolean {
  const margin = renewBeforeMs >= token.lifetimeMs ? token.lifetimeMs / 2 : renewBeforeMs;
  return token.expiresAt - now < margin;
}

/** A customer signed in himself. */
export interface CustomerUser {
  mode: 'customer';
  accountId: string;
  name: string;
  email?: string;
  /** For RP-initiated logout (id_token_hint). */
  idToken: string;
  /** JWT for the orders API. */
  orders: HeldToken;
  /** Opaque Behalf token without a resource, for the customer API; fetched when first needed. */
  account?: HeldToken;
  /** After a failed silent request for `account`, do not try again before this (no redirect loops). */
  accountUnavailableUntil?: number;
}

/** A support agent acting as a customer. */
export interface OnBehalfUser {
  mode: 'on-behalf';
  customerId: string;
  customerName: string;
  agentId: string;
  agentName: string;
  /** The on-behalf session at Behalf (`obo_sid`). */
  sessionId: string;
  /** The agent's access token from the re-authentication: exchanged again to renew `orders`. */
  actor: HeldToken;
  orders: HeldToken;
  /** The key every exchange of this session proves; `orders` is bound to it when `ordersBound` (RFC 9449). */
  dpop: DpopKeyPair;
  ordersBound: boolean;
  /** When Behalf last said the session is active (epoch ms). */
  statusCheckedAt: number;
  /** The renewal in the actor token's last stretch happened: none can follow it. */
  finalRenewalDone?: boolean;
  /** When the session ends at Behalf (epoch ms), as its status last said. */
  sessionEndsAt?: number;
  /** Why the agent acts, as recorded at the re-authentication (for the banner). */
  reason?: string;
  ticket?: string | null;
}

export type SessionUser = CustomerUser | OnBehalfUser;

/** An authorization request on its way through Behalf, keyed by its `state`. */
export interface PendingFlow {
  kind: 'sign-in' | 'renew' | 'account-token' | 'on-behalf';
  verifier: string;
  nonce?: string;
  /** on-behalf: the customer account id named in `on_behalf_of`. */
  customer?: string;
  /** A path of this store to return to. */
  returnTo: string;
  createdAt: number;
}

export interface Flash {
  kind: 'info' | 'error';
  text: string;
}

export interface Session {
  id: string;
  store: string;
  csrfSecret: string;
  lastSeen: number;
  pending: Map<string, PendingFlow>;
  user?: SessionUser;
  flash?: Flash;
  /** Single flight for token renewal: parallel page loads share one exchange. */
  renewing?: Promise<void>;
  /**
   * Whom this browser was before the latest sign-in or login on behalf, with that session's CSRF
   * secret: a form from a tab still showing the earlier customer is then refused with words that
   * say so, instead of acting on the customer who is now signed in.
   */
  replaced?: { csrfSecret: string; who: string; now: string };
}

const tokens = new Tokens();
/** A flow not completed within this is forgotten (Behalf's own interaction lives 15 minutes). */
const PENDING_TTL_MS = 15 * 60_000;
/** At most this many flows in progress per session (tabs left open at Behalf's sign-in page). */
const MAX_PENDING = 10;

export class BrowserSessions {
  private readonly sessions = new Map<string, Session>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly idleMs: number,
    private readonly secureCookies: boolean,
  ) {
    // Sweep idle sessions; unref'd so it never keeps the process alive.
    this.timer = setInterval(() => this.sweep(), Math.min(idleMs, 60_000));
    this.timer.unref();
  }

  cookieName(store: StoreDefinition): string {
    return `shop.${store.slug}.sid`;
  }

  private cookieOptions(store: StoreDefinition) {
    return { signed: true, httpOnly: true, sameSite: 'lax' as const, secure: this.secureCookies, path: `/${store.slug}/`, overwrite: true };
  }

  /** The browser's session for this store, if it has a live one. */
  load(ctx: Context, store: StoreDefinition): Session | undefined {
    const id = ctx.cookies.get(this.cookieName(store), { signed: true });
    const session = id ? this.sessions.get(id) : undefined;
    if (!session || session.store !== store.slug) return undefined;
    const now = Date.now();
    if (now - session.lastSeen > this.idleMs) {
      this.sessions.delete(session.id);
      return undefined;
    }
    session.lastSeen = now;
    return session;
  }

  /** The browser's session, created (and its cookie set) if it has none. */
  ensure(ctx: Context, store: StoreDefinition, existing?: Session): Session {
    if (existing) return existing;
    const session: Session = {
      id: randomBytes(24).toString('base64url'),
      store: store.slug,
      csrfSecret: tokens.secretSync(),
      lastSeen: Date.now(),
      pending: new Map(),
    };
    this.sessions.set(session.id, session);
    ctx.cookies.set(this.cookieName(store), session.id, this.cookieOptions(store));
    return session;
  }

  /**
   * A fresh id and CSRF secret for a session whose user just changed (sign-in,
   * login on behalf): an id planted or seen before the sign-in is worthless after it.
   */
  rotate(ctx: Context, store: StoreDefinition, session: Session, change?: { who: string; now: string }): Session {
    this.sessions.delete(session.id);
    // A tab of the user before the last change keeps being told so until another change replaces it.
    const replaced = change ? { csrfSecret: session.csrfSecret, ...change } : session.replaced;
    const fresh: Session = {
      ...session,
      id: randomBytes(24).toString('base64url'),
      csrfSecret: tokens.secretSync(),
      pending: new Map(),
      renewing: undefined,
      replaced,
    };
    this.sessions.set(fresh.id, fresh);
    ctx.cookies.set(this.cookieName(store), fresh.id, this.cookieOptions(store));
    return fresh;
  }

  /** Forgets the session and clears its cookie. */
  destroy(ctx: Context, store: StoreDefinition, session: Session | undefined): void {
    if (session) this.sessions.delete(session.id);
    ctx.cookies.set(this.cookieName(store), null, this.cookieOptions(store));
  }

  /** Remembers a flow by its state, dropping expired ones and the oldest beyond the limit. */
  addPending(session: Session, state: string, flow: PendingFlow): void {
    const now = Date.now();
    for (const [key, value] of session.pending) if (now - value.createdAt > PENDING_TTL_MS) session.pending.delete(key);
    while (session.pending.size >= MAX_PENDING) session.pending.delete(session.pending.keys().next().value!);
    session.pending.set(state, flow);
  }

  /** Takes (removes) the flow for `state`: a state is good for one callback only. */
  takePending(session: Session | undefined, state: string | undefined): PendingFlow | undefined {
    if (!session || !state) return undefined;
    const flow = session.pending.get(state);
    session.pending.delete(state);
    if (!flow || Date.now() - flow.createdAt > PENDING_TTL_MS) return undefined;
    return flow;
  }

  csrfToken(session: Session): string {
    return tokens.create(session.csrfSecret);
  }

  verifyCsrf(session: Session | undefined, token: unknown): boolean {
    return !!session && typeof token === 'string' && token.length < 200 && tokens.verify(session.csrfSecret, token);
  }

  /** The form came from a page of the user this session replaced: whom it was for, and who is here now. */
  staleForm(session: Session | undefined, token: unknown): { who: string; now: string } | undefined {
    const replaced = session?.replaced;
    if (!replaced || typeof token !== 'string' || token.length >= 200 || !tokens.verify(replaced.csrfSecret, token)) return undefined;
    return { who: replaced.who, now: replaced.now };
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, session] of this.sessions) if (now - session.lastSeen > this.idleMs) this.sessions.delete(id);
  }

  close(): void {
    clearInterval(this.timer);
    this.sessions.clear();
  }
}

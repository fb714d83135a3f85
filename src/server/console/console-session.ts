/**
 * The console's browser session, kept in the browser but unreadable there:
 * a cookie of the console's own name holding a JWE sealed with Behalf's
 * key-encryption key (the same sealer as client secrets), so any instance
 * can read it and no server-side store is needed. It carries the admin's
 * access token for the admin API; it lives as long as that token.
 * The sign-in in flight (state, nonce, PKCE verifier) rides in a second one.
 */
import type { Context } from 'koa';
import type { Sealer } from '../secrets/sealer.js';
import { CONSOLE_PATH } from './console-client.js';

export const CONSOLE_COOKIES = { session: 'behalf.console', login: 'behalf.console.login', flash: 'behalf.console.flash' };

export interface ConsoleUser {
  sub: string;
  name: string;
  email: string | null;
  accessToken: string;
  idToken: string;
  /** Epoch ms. */
  expiresAt: number;
}

export interface PendingLogin {
  state: string;
  nonce: string;
  verifier: string;
  returnTo: string;
  /** Epoch ms; a sign-in left half-way is forgotten after ten minutes. */
  startedAt: number;
}

export class ConsoleSessions {
  constructor(
    private readonly sealer: Sealer,
    private readonly secure: boolean,
  ) {}

  private set(ctx: Context, name: string, value: string | null, maxAgeMs?: number): void {
    ctx.cookies.set(name, value, {
      httpOnly: true,
      sameSite: 'lax',
      secure: this.secure,
      path: CONSOLE_PATH,
      signed: true,
      overwrite: true,
      ...(maxAgeMs ? { maxAge: maxAgeMs } : {}),
    });
  }

  private async read<T>(ctx: Context, name: string): Promise<T | undefined> {
    const sealed = ctx.cookies.get(name, { signed: true });
    if (!sealed) return undefined;
    try {
      return JSON.parse(await this.sealer.open(sealed)) as T;
    } catch {
      // Sealed under a retired key, or tampered with: as if there were none.
      return undefined;
    }
  }

  async user(ctx: Context): Promise<ConsoleUser | undefined> {
    const user = await this.read<ConsoleUser>(ctx, CONSOLE_COOKIES.session);
    return user && user.expiresAt > Date.now() ? user : undefined;
  }

  async signIn(ctx: Context, user: ConsoleUser): Promise<void> {
    this.set(ctx, CONSOLE_COOKIES.session, await this.sealer.seal(JSON.stringify(user)), Math.max(user.expiresAt - Date.now(), 1000));
  }

  signOut(ctx: Context): void {
    this.set(ctx, CONSOLE_COOKIES.session, null);
  }

  async startLogin(ctx: Context, pending: PendingLogin): Promise<void> {
    this.set(ctx, CONSOLE_COOKIES.login, await this.sealer.seal(JSON.stringify(pending)), 10 * 60 * 1000);
  }

  /** The sign-in in flight, used once. */
  async takeLogin(ctx: Context): Promise<PendingLogin | undefined> {
    const pending = await this.read<PendingLogin>(ctx, CONSOLE_COOKIES.login);
    this.set(ctx, CONSOLE_COOKIES.login, null);
    return pending && Date.now() - pending.startedAt < 10 * 60 * 1000 ? pending : undefined;
  }

  /** A one-time message for the next page (POST-redirect-GET). */
  flash(ctx: Context, message: string): void {
    this.set(ctx, CONSOLE_COOKIES.flash, Buffer.from(message.slice(0, 1000)).toString('base64url'), 60_000);
  }

  takeFlash(ctx: Context): string | undefined {
    const value = ctx.cookies.get(CONSOLE_COOKIES.flash, { signed: true });
    if (!value) return undefined;
    this.set(ctx, CONSOLE_COOKIES.flash, null);
    return Buffer.from(value, 'base64url').toString('utf8');
  }
}

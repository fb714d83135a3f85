/**
 * What every console page handler needs: the signed-in admin, the admin API
 * as that admin, rendering (Eta, auto-escaping, the console's layout), CSRF
 * tokens, and one-time messages after a redirect.
 */
import { join } from 'node:path';
import { Eta } from 'eta';
import type { Context } from 'koa';
import { projectRoot } from '../../../config/load.js';
import { issueCsrfToken, verifyCsrfToken } from '../http/csrf.js';
import { AdminApi } from './admin-api.js';
import { CONSOLE_PATH } from './console-client.js';
import type { ConsoleSessions, ConsoleUser } from './console-session.js';
import * as format from './format.js';

declare module 'koa' {
  interface DefaultState {
    consoleUser?: ConsoleUser;
  }
}

export type Section = 'people' | 'sessions' | 'audit' | 'clients' | 'home';

export class ConsoleKit {
  private readonly eta: Eta;

  constructor(
    readonly sessions: ConsoleSessions,
    readonly apiBaseUrl: string,
    readonly secureCookies: boolean,
    cache = true,
  ) {
    this.eta = new Eta({ views: join(projectRoot(), 'src', 'server', 'views', 'console'), autoEscape: true, cache, autoTrim: false });
  }

  user(ctx: Context): ConsoleUser {
    return ctx.state.consoleUser!;
  }

  api(ctx: Context): AdminApi {
    return new AdminApi(this.apiBaseUrl, this.user(ctx).accessToken, ctx.get('user-agent') || undefined);
  }

  csrf(ctx: Context): string {
    return issueCsrfToken(ctx, this.secureCookies);
  }

  csrfOk(ctx: Context): boolean {
    return verifyCsrfToken(ctx, (ctx.request.body as Record<string, unknown> | undefined)?.csrf);
  }

  /** Renders a page inside the console layout. `error`/`errorField`: the message shown and the field that gets focus. */
  render(ctx: Context, template: string, data: { title: string; section: Section; status?: number } & Record<string, unknown>): void {
    const user = ctx.state.consoleUser;
    const page = { ...data, format, csrf: this.csrf(ctx), flash: this.sessions.takeFlash(ctx), user, base: CONSOLE_PATH };
    const body = this.eta.render(template, page);
    ctx.status = data.status ?? 200;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = this.eta.render('layout', { ...page, body });
  }

  /** POST-redirect-GET with a one-time message. */
  done(ctx: Context, to: string, message: string): void {
    this.sessions.flash(ctx, message);
    ctx.redirect(to);
  }
}

/** A form field as text (first value; trimmed), or '' when absent. */
export function field(ctx: Context, name: string): string {
  const value = (ctx.request.body as Record<string, unknown> | undefined)?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first.trim() : '';
}

/** A query parameter as text (first value; trimmed), or '' when absent. */
export function param(ctx: Context, name: string): string {
  const value = ctx.query[name];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first.trim() : '';
}

/** Which form field an API error is about: its `field`, or the filter its message starts with ("agent: …"). */
export function errorField(body: { field?: string; error_description?: string }, fields: readonly string[]): string | undefined {
  if (body.field && fields.includes(body.field)) return body.field;
  const named = /^([a-z_]+)[: ]/.exec(body.error_description ?? '')?.[1];
  return named && fields.includes(named) ? named : undefined;
}

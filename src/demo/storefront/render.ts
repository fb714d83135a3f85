/**
 * Server-rendered pages (Eta, auto-escaping on: `<%= %>` escapes, only the
 * layout's already-rendered body goes out raw). Every page of a store gets the
 * same frame: skip link, header with the store's navigation, the on-behalf
 * banner while an agent acts as a customer, and a one-time flash message.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import type { Context } from 'koa';
import type { Session, BrowserSessions } from './browser-sessions.js';
import { bannerFor } from './banner.js';
import type { StoreDefinition } from './stores.js';

/**
 * The folder holding `views/` and `assets/`. Templates are not compiled, so
 * when this runs from dist/ they are read from the sources under the project
 * root (found by its package.json), as Behalf's own pages are.
 */
export function storefrontDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  if (existsSync(join(here, 'views'))) return here;
  let dir = here;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('storefront: cannot find the project root (package.json) for the views');
    dir = parent;
  }
  return join(dir, 'src', 'demo', 'storefront');
}

/** "2026-11-20 14:03 UTC": unambiguous, and the same for every reader of a shared screen. */
export function when(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export interface PageData {
  title: string;
  [key: string]: unknown;
}

export class Renderer {
  private readonly eta: Eta;

  constructor(
    private readonly sessions: BrowserSessions,
    private readonly stores: readonly StoreDefinition[],
  ) {
    this.eta = new Eta({ views: join(storefrontDir(), 'views'), autoEscape: true, cache: true, autoTrim: false });
  }

  /** A store's page: `template` inside the layout, with the frame's data from the session. */
  storePage(ctx: Context, store: StoreDefinition, session: Session | undefined, template: string, data: PageData, status = 200): void {
    const user = session?.user;
    const banner = user?.mode === 'on-behalf' ? bannerFor(user) : undefined;
    const flash = session?.flash;
    if (session) session.flash = undefined;
    const frame = {
      ...data,
      store,
      stores: this.stores,
      base: `/${store.slug}`,
      user: user ? { mode: user.mode, name: user.mode === 'customer' ? user.name : user.customerName } : undefined,
      banner,
      flash,
      csrf: session && user ? this.sessions.csrfToken(session) : undefined,
      // While on behalf the tab's title says so too: it shows in the tab strip and in screen readers' window lists.
      fullTitle: `${data.title} · ${store.name}${banner ? ` — acting as ${banner.customerName}` : ''}`,
      when,
    };
    this.send(ctx, status, template, frame);
  }

  /** A page outside any store (the index, an unknown path). */
  plainPage(ctx: Context, template: string, data: PageData, status = 200): void {
    this.send(ctx, status, template, { ...data, stores: this.stores, fullTitle: `${data.title} · Storefront demo` });
  }

  private send(ctx: Context, status: number, template: string, data: Record<string, unknown>): void {
    const body = this.eta.render(template, data);
    ctx.status = status;
    ctx.type = 'html';
    // Pages carry per-user data and CSRF tokens: never cached.
    ctx.set('Cache-Control', 'no-store');
    ctx.body = this.eta.render('layout', { ...data, body });
  }
}

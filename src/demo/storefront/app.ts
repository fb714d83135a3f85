/**
 * The storefront demo: one Koa app serving every store under its own path
 * (`/electronics/`, `/books/`), each an OIDC client of Behalf, using only
 * public interfaces: OIDC (openid-client), Behalf's token endpoint and APIs,
 * and the orders API over HTTP. Server-rendered; no scripts at all, so the
 * Content-Security-Policy allows none.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import { serve, type Served } from '../shared/http-server.js';
import Koa, { type Context, type Next } from 'koa';
import helmet from 'koa-helmet';
import { BehalfApi } from './behalf-api.js';
import type { StoreDeps } from './deps.js';
import { notFound, PageError, RedirectSignal, seeOther } from './http.js';
import { checkSessionStatus } from './on-behalf.js';
import { OidcClients } from './oidc.js';
import { OrdersApi } from './orders-api.js';
import { Renderer, storefrontDir } from './render.js';
import { accountRoutes, agentNamesFor } from './routes/account.js';
import { authRoutes } from './routes/auth.js';
import { shopRoutes } from './routes/shop.js';
import { controlRoutes } from './routes/control.js';
import { ControlApi } from './control-api.js';
import { BrowserSessions } from './browser-sessions.js';
import { assertValidStores, DEFAULT_STORES, type StoreDefinition } from './stores.js';
import { demoContentSecurityPolicy } from '../shared/content-security-policy.js';

export interface StorefrontOptions {
  /** Behalf's issuer URL. */
  issuer: string;
  /** Where the orders API answers (its real address). */
  ordersApiUrl: string;
  /** The orders API's resource identifier; default http://localhost:4003. */
  ordersResource?: string;
  /** The stores' client secret at Behalf (the demo registers both stores with one). */
  clientSecret: string;
  /** The public base URL browsers use, as registered in the redirect URIs; default http://localhost:4001. */
  publicUrl?: string;
  /** Cookie-signing keys (Koa keygrip; the first signs). */
  cookieKeys: string[];
  stores?: readonly StoreDefinition[];
  /** How long Behalf's "session active" answer is trusted; default 5 s. */
  statusCacheSeconds?: number;
  /** Tokens are renewed when less than this is left; default 60 s. */
  renewBeforeSeconds?: number;
  /** A session unused this long is forgotten; default 120 minutes. */
  sessionIdleMinutes?: number;
  /** Trust X-Forwarded-* (behind a TLS-terminating proxy). */
  trustProxy?: boolean;
  /** The support portal, where agents go back to after an on-behalf session; default http://localhost:4002. */
  portalUrl?: string;
  /** Unexpected errors (the 500s); default console.error. */
  onError?: (error: unknown, ctx: Context) => void;
}

/** The app, and `listen`/`close` from the shared server helper. */
export interface Storefront extends Served {
  app: Koa;
}

declare module 'koa' {
  interface DefaultState {
    /** Set once the request is known to be for a store. */
    storeDeps?: StoreDeps;
  }
}

/** Paths that must work whatever state the on-behalf session is in (they finish or end it). */
const UNWATCHED = new Set(['/callback', '/signed-out', '/on-behalf/start', '/on-behalf/end', '/signout']);
const MAX_FORM_BYTES = 16_384;

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

export function createStorefront(options: StorefrontOptions): Storefront {
  const stores = options.stores ?? DEFAULT_STORES;
  assertValidStores(stores);
  if (!options.cookieKeys.length || options.cookieKeys.some((key) => key.length < 32))
    throw new Error('storefront: cookie keys must be at least 32 characters each');
  const issuer = trimSlash(options.issuer);
  const publicUrl = trimSlash(options.publicUrl ?? 'http://localhost:4001');
  const onError =
    options.onError ?? ((error: unknown, ctx: Context) => console.error(`storefront: ${ctx.method} ${ctx.path} failed:`, error));

  const sessions = new BrowserSessions((options.sessionIdleMinutes ?? 120) * 60_000, publicUrl.startsWith('https://'));
  const render = new Renderer(sessions, stores);
  const oidc = new OidcClients({ issuer, clientSecret: options.clientSecret, publicUrl });
  const behalf = new BehalfApi(issuer, options.clientSecret);
  const orders = new OrdersApi(trimSlash(options.ordersApiUrl));
  const css = readFileSync(join(storefrontDir(), 'assets', 'storefront.css'));

  const app = new Koa({ keys: options.cookieKeys, proxy: options.trustProxy ?? false });
  app.silent = true;

  app.use(async function errorPages(ctx: Context, next: Next) {
    try {
      await next();
    } catch (caught) {
      if (caught instanceof RedirectSignal) return seeOther(ctx, caught.location);
      const page = asPage(caught);
      if (!page) onError(caught, ctx);
      const shown =
        page ??
        new PageError(500, 'Something went wrong', 'Something went wrong on our side. Nothing more was changed; try again in a moment.');
      const deps = ctx.state.storeDeps;
      const data = {
        title: shown.title,
        message: shown.message,
        detail: shown.detail,
        forAgent: shown.forAgent,
        portalUrl: deps?.portalUrl,
      };
      if (deps) deps.render.storePage(ctx, deps.store, ctx.state.session, 'message', data, shown.status);
      else render.plainPage(ctx, 'message', data, shown.status);
    }
  });
  app.use(
    helmet({
      contentSecurityPolicy: demoContentSecurityPolicy(issuer),
      strictTransportSecurity: publicUrl.startsWith('https://') ? { maxAge: 31_536_000 } : false,
      // The callback URL carries an authorization code: no Referer anywhere.
      referrerPolicy: { policy: 'no-referrer' },
    }),
  );
  app.use(async function assets(ctx: Context, next: Next) {
    if (ctx.path !== '/assets/storefront.css' || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    ctx.type = 'text/css';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = css;
  });
  app.use(bodyParser({ enableTypes: ['form'], formLimit: `${MAX_FORM_BYTES}b`, encoding: 'utf-8' }));

  for (const store of stores) {
    const deps: StoreDeps = {
      store,
      sessions,
      oidc,
      behalf,
      orders,
      render,
      ordersResource: trimSlash(options.ordersResource ?? 'http://localhost:4003'),
      statusCacheMs: (options.statusCacheSeconds ?? 5) * 1000,
      renewBeforeMs: (options.renewBeforeSeconds ?? 60) * 1000,
      portalUrl: trimSlash(options.portalUrl ?? 'http://localhost:4002'),
    };
    app.use(storeMiddleware(deps, new ControlApi(issuer)));
  }

  const index = new Router();
  index.get('/', (ctx) => render.plainPage(ctx, 'index', { title: 'Stores' }));
  app.use(index.routes());
  app.use((ctx: Context) => {
    if (ctx.status === 404 && ctx.body === undefined) throw notFound();
  });

  const served = serve(app);
  return {
    app,
    listen: served.listen,
    async close() {
      sessions.close();
      await served.close();
    },
  };
}

/** Errors that are the request's fault, as pages: ours, and the body parser's or router's 4xx. */
function asPage(caught: unknown): PageError | undefined {
  if (caught instanceof PageError) return caught;
  const { status, expose } = (caught ?? {}) as { status?: unknown; expose?: unknown };
  if (typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  if (status === 413) return new PageError(413, 'Too much data', 'That form sent more than this store accepts.');
  if (status === 415) return new PageError(415, 'Unsupported form', 'Forms here are sent as ordinary web forms.');
  if (status === 405) return new PageError(405, 'Not here', 'This page does not take that kind of request.');
  if (status === 404) return new PageError(404, 'Not found', 'There is no such page here.');
  if (status === 400 || expose === true) return new PageError(400, 'That did not work', 'The request could not be read.');
  return undefined;
}

/** Everything under `/<store>/`: the session, the on-behalf watch, CSRF on every form, the store's routes. */
function storeMiddleware(deps: StoreDeps, control: ControlApi) {
  const base = `/${deps.store.slug}`;
  const router = new Router({ prefix: base });
  for (const routes of [authRoutes(deps), shopRoutes(deps, agentNamesFor(deps)), accountRoutes(deps), controlRoutes(deps, control)])
    router.use(routes.routes());
  const routes = router.routes();
  // A known path with the wrong method is a 405 (thrown, so it becomes a page like every other refusal).
  const methods = router.allowedMethods({ throw: true });

  return async function storeRequest(ctx: Context, next: Next) {
    if (ctx.path === base) return seeOther(ctx, `${base}/`);
    if (!ctx.path.startsWith(`${base}/`)) return next();
    ctx.state.storeDeps = deps;
    const session = deps.sessions.load(ctx, deps.store);
    ctx.state.session = session;
    const local = ctx.path.slice(base.length);
    // Every page load while on behalf asks Behalf (cached a few seconds) whether the session still runs.
    if (session?.user?.mode === 'on-behalf' && !UNWATCHED.has(local)) await checkSessionStatus(ctx, deps, session, session.user);
    const csrf = (ctx.request.body as Record<string, unknown> | undefined)?.csrf;
    if (ctx.method === 'POST' && !deps.sessions.verifyCsrf(session, csrf)) {
      const stale = deps.sessions.staleForm(session, csrf);
      if (stale)
        throw new PageError(
          409,
          'This page is out of date',
          `This page was for ${stale.who}, which ended when ${stale.now} in this browser. Nothing was changed. Reload the page to see where you are now.`,
        );
      throw new PageError(
        403,
        'This form has expired',
        'This form has expired or did not come from this store. Go back, reload the page and try again.',
      );
    }
    const routed = ctx as Parameters<typeof routes>[0];
    await routes(routed, () => methods(ctx as Parameters<typeof methods>[0], async () => undefined));
    if (ctx.status === 404 && ctx.body === undefined) throw notFound();
  };
}

/**
 * The portal: the back-office app where support staff sign in through Behalf,
 * search contacts, open a contact's accounts and start "Login on behalf",
 * and see and end their own on-behalf sessions; admins also see everyone's
 * sessions and the audit trail. It uses only
 * public interfaces: OpenID Connect (openid-client) and Behalf's HTTP APIs.
 */
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import { serve, type Served } from '../shared/http-server.js';
import Koa, { type Context, type Next } from 'koa';
import helmet from 'koa-helmet';
import { BehalfApi, PortalError, SignInRequired } from './behalf-api.js';
import { baseUrl, DEV_COOKIE_KEY } from './config.js';
import { RelyingParty } from './oidc.js';
import { PortalRenderer } from './render.js';
import { auditRoutes } from './routes/audit.js';
import { authRoutes } from './routes/auth.js';
import { contactRoutes } from './routes/contacts.js';
import { render, type PortalDeps } from './routes/deps.js';
import { mySessionRoutes } from './routes/my-sessions.js';
import { sessionRoutes } from './routes/sessions.js';
import { CsrfError, MemorySessions, requireCsrf } from './session.js';
import { demoContentSecurityPolicy } from '../shared/content-security-policy.js';

export interface PortalOptions {
  /** Behalf's issuer URL. */
  issuer: string;
  /** Where browsers reach the portal (default http://localhost:4002); `<publicUrl>/callback` must be registered at Behalf. */
  publicUrl?: string;
  clientId?: string;
  clientSecret?: string;
  /** Default http://localhost:4001. */
  storefrontUrl?: string;
  /** Cookie-signing keys (default: a public development key). */
  cookieKeys?: string[];
  trustProxy?: boolean;
  /** Unexpected errors (the 500s); default console.error. */
  onError?: (error: unknown, ctx: Context) => void;
}

/** The app, and `listen`/`close` from the shared server helper. */
export interface Portal extends Served {
  app: Koa;
}

function defaultOnError(error: unknown, ctx: Context): void {
  console.error(`portal: ${ctx.method} ${ctx.path} failed:`, error);
}

/** Where to come back to after signing in again: this page for a GET, the page the form was on for a POST. */
function returnPath(ctx: Context, publicUrl: string): string {
  if (ctx.method === 'GET') return ctx.originalUrl;
  try {
    const referer = new URL(ctx.get('referer'));
    if (referer.origin === new URL(publicUrl).origin) return `${referer.pathname}${referer.search}`;
  } catch {
    // no usable Referer: back to the start
  }
  return '/contacts';
}

function errorPages(deps: PortalDeps, publicUrl: string, onError: NonNullable<PortalOptions['onError']>) {
  return async function portalErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
      if (ctx.status === 404 && !ctx.body)
        await render(deps, ctx, 'message', { title: 'Not found', message: 'There is no such page.' }, 404);
    } catch (error) {
      if (error instanceof SignInRequired) {
        const session = deps.sessions.current(ctx);
        // A token refused right after the sign-in that replaced a refused one: going round again would loop.
        if (error.refused && session?.user?.afterRefusal && Date.now() - session.user.signedInAt < 60_000) {
          session.user = undefined;
          session.refused = false;
          return render(
            deps,
            ctx,
            'message',
            {
              title: 'Sign-in not accepted',
              message: 'Behalf did not accept the portal’s access. Sign in again, or ask an administrator.',
              retry: true,
            },
            401,
          );
        }
        // Otherwise sign in again: silently while Behalf's own browser session lasts (the portal asks for
        // no refresh token, so an expired access token is replaced this way too).
        if (session) {
          session.user = undefined;
          session.refused = error.refused;
        }
        return ctx.redirect(`/login?return_to=${encodeURIComponent(returnPath(ctx, publicUrl))}`);
      }
      if (error instanceof CsrfError) {
        return render(
          deps,
          ctx,
          'message',
          {
            title: 'This form has expired',
            message: 'The page was open too long or came from elsewhere. Go back, reload the page and try again.',
          },
          403,
        );
      }
      if (error instanceof PortalError) return render(deps, ctx, 'message', { title: error.title, message: error.message }, error.status);
      const status = (error as { status?: number; expose?: boolean }).expose ? Number((error as { status?: number }).status) : 500;
      if (status >= 500) onError(error, ctx);
      return render(
        deps,
        ctx,
        'message',
        {
          title: status >= 500 ? 'Something went wrong' : 'Bad request',
          message: status >= 500 ? 'The portal could not complete the request.' : (error as Error).message,
        },
        status,
      ).catch(() => {
        ctx.status = status;
        ctx.body = 'Something went wrong';
      });
    }
  };
}

export function createPortal(options: PortalOptions): Portal {
  const issuer = baseUrl('issuer', options.issuer);
  const publicUrl = baseUrl('publicUrl', options.publicUrl ?? 'http://localhost:4002');
  const secure = publicUrl.startsWith('https://');
  const sessions = new MemorySessions({ secureCookies: secure });
  const deps: PortalDeps = {
    sessions,
    rp: new RelyingParty({
      issuer,
      publicUrl,
      clientId: options.clientId ?? 'portal',
      clientSecret: options.clientSecret ?? 'portal-demo-secret',
    }),
    api: new BehalfApi(issuer),
    renderer: new PortalRenderer(),
    storefrontUrl: baseUrl('storefrontUrl', options.storefrontUrl ?? 'http://localhost:4001'),
  };

  const app = new Koa({ keys: options.cookieKeys?.length ? options.cookieKeys : [DEV_COOKIE_KEY], proxy: options.trustProxy ?? false });
  app.silent = true;
  app.use(errorPages(deps, publicUrl, options.onError ?? defaultOnError));
  app.use(
    helmet({
      contentSecurityPolicy: demoContentSecurityPolicy(issuer),
      strictTransportSecurity: secure ? { maxAge: 31_536_000, includeSubDomains: true } : false,
      // Same-origin Referer only: it tells a POST whose sign-in expired which page to return to.
      referrerPolicy: { policy: 'same-origin' },
    }),
  );

  const assets = new Router();
  assets.get('/assets/portal.css', (ctx) => {
    ctx.type = 'text/css';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = deps.renderer.css;
  });
  app.use(assets.routes());

  // Forms only, and small: the portal takes nothing else from browsers.
  app.use(bodyParser({ enableTypes: ['form'], formLimit: '8kb', encoding: 'utf-8' }));
  app.use(requireCsrf(sessions));
  for (const router of [authRoutes(deps, publicUrl), contactRoutes(deps), mySessionRoutes(deps), sessionRoutes(deps), auditRoutes(deps)]) {
    app.use(router.routes()).use(router.allowedMethods());
  }

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

/**
 * The admin console, served by Behalf at /console: server-rendered pages
 * over the admin HTTP API. Signed in through Behalf itself (sign-in.ts);
 * every POST carries a CSRF token; every change goes POST → API → redirect
 * with a one-time message.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context, Next } from 'koa';
import { projectRoot } from '../../../config/load.js';
import type { Logger } from '../observability/logger.js';
import type { Sealer } from '../secrets/sealer.js';
import { ApiAuthError } from './admin-api.js';
import { CONSOLE_PATH, consoleClientSecret, consoleRedirectUri } from './console-client.js';
import { ConsoleKit } from './console-kit.js';
import { ConsoleSessions } from './console-session.js';
import { ConsoleSignIn, ConsoleSignInError } from './sign-in.js';
import { peoplePages } from './people-pages.js';
import { sessionPages } from './session-pages.js';
import { auditPages } from './audit-pages.js';
import { clientPages } from './client-pages.js';

export interface ConsoleDependencies {
  issuer: string;
  /** Base URL of the admin API the console calls (the issuer unless configured otherwise). */
  apiBaseUrl: string;
  secrets: { cookieKeys: string[] };
  sealer: Sealer;
  logger: Logger;
  requireSecondFactor: boolean;
  maxBodyBytes: number;
}

export function consoleRoutes(deps: ConsoleDependencies): Router {
  const secure = deps.issuer.startsWith('https://');
  const sessions = new ConsoleSessions(deps.sealer, secure);
  const kit = new ConsoleKit(sessions, deps.apiBaseUrl, secure);
  const signIn = new ConsoleSignIn(
    {
      issuer: deps.issuer,
      clientSecret: consoleClientSecret(deps),
      redirectUri: consoleRedirectUri(deps),
      postLogoutRedirectUri: `${deps.issuer}${CONSOLE_PATH}/signed-out`,
      requireSecondFactor: deps.requireSecondFactor,
    },
    sessions,
  );
  const css = readFileSync(join(projectRoot(), 'src', 'server', 'views', 'assets', 'console.css'));

  const router = new Router();
  // /admin is the admin API's; people typing it in a browser are looking for the console.
  router.get('/admin', (ctx) => ctx.redirect(`${CONSOLE_PATH}/`));

  const pages = new Router({ prefix: CONSOLE_PATH });
  pages.use(async (ctx, next) => {
    ctx.set('Cache-Control', 'no-store');
    try {
      await next();
    } catch (error) {
      if (error instanceof ApiAuthError) {
        if (error.status === 401) return startSignIn(ctx);
        kit.render(ctx, 'message', {
          title: 'Admins only',
          section: 'home',
          status: 403,
          message: `Behalf’s admin API refused your account: ${error.message}. Ask an admin for the admin role.`,
        });
        return;
      }
      deps.logger.error('admin console page failed', { error, path: ctx.path });
      kit.render(ctx, 'message', {
        title: 'Something went wrong',
        section: 'home',
        status: 500,
        message: 'The page could not be shown. Try again.',
      });
    }
  });
  pages.use(bodyParser({ enableTypes: ['form'], formLimit: `${deps.maxBodyBytes}b`, encoding: 'utf-8' }));

  pages.get('/assets/console.css', (ctx) => {
    ctx.type = 'text/css';
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = css;
  });

  async function startSignIn(ctx: Context): Promise<void> {
    sessions.signOut(ctx);
    ctx.redirect(await signIn.start(ctx, ctx.method === 'GET' ? ctx.url : `${CONSOLE_PATH}/`));
  }

  pages.get('/login', async (ctx) => ctx.redirect(await signIn.start(ctx, `${CONSOLE_PATH}/`)));

  pages.get('/callback', async (ctx) => {
    try {
      const { user, returnTo } = await signIn.finish(ctx);
      await sessions.signIn(ctx, user);
      ctx.redirect(returnTo);
    } catch (error) {
      if (!(error instanceof ConsoleSignInError)) throw error;
      kit.render(ctx, 'message', { title: 'Not signed in', section: 'home', status: 400, message: error.message, signInAgain: true });
    }
  });

  pages.get('/signed-out', (ctx) =>
    kit.render(ctx, 'message', {
      title: 'Signed out',
      section: 'home',
      message: 'You have signed out of the admin console.',
      signInAgain: true,
    }),
  );

  /** Everything below needs a signed-in admin (the API checks the role) and, for POSTs, a CSRF token. */
  pages.use(async (ctx: Context, next: Next) => {
    const user = await sessions.user(ctx);
    if (!user) {
      if (ctx.method === 'GET') return startSignIn(ctx);
      return kit.render(ctx, 'message', {
        title: 'Signed out',
        section: 'home',
        status: 401,
        message: 'Your session ended. Sign in again.',
        signInAgain: true,
      });
    }
    ctx.state.consoleUser = user;
    if (ctx.method === 'POST' && !kit.csrfOk(ctx)) {
      return kit.render(ctx, 'message', {
        title: 'Form expired',
        section: 'home',
        status: 403,
        message: 'This form was not sent from the console page you opened (or it expired). Go back, reload the page and try again.',
      });
    }
    await next();
  });

  pages.post('/logout', async (ctx) => {
    const idToken = kit.user(ctx).idToken;
    sessions.signOut(ctx);
    ctx.redirect(await signIn.endSessionUrl(idToken));
  });

  pages.get('/', async (ctx) => {
    const active = await kit.api(ctx).get<{ sessions: unknown[] }>('/admin/on-behalf/sessions?active=true&limit=500');
    kit.render(ctx, 'home', { title: 'Admin console', section: 'home', activeSessions: active.body.sessions?.length ?? 0 });
  });

  peoplePages(pages, kit);
  sessionPages(pages, kit);
  auditPages(pages, kit);
  clientPages(pages, kit);

  router.use(pages.routes(), pages.allowedMethods());
  return router;
}

/** Home, sign-in (authorization code + PKCE at Behalf), the callback, and sign-out (RP-initiated logout). */
import Router from '@koa/router';
import { PortalError } from '../behalf-api.js';
import { SignInFailed } from '../oidc.js';
import { localPath, render, type PortalDeps } from './deps.js';

export function authRoutes(deps: PortalDeps, publicUrl: string): Router {
  const router = new Router();

  router.get('/', async (ctx) => {
    const user = deps.sessions.current(ctx)?.user;
    await render(deps, ctx, 'home', { title: 'Home', section: 'home', user: user?.name });
  });

  // A GET, so "Sign in" is a plain link; it changes nothing but this browser's pending sign-in.
  router.get('/login', async (ctx) => {
    const session = deps.sessions.ensure(ctx);
    const url = await deps.rp.authorizationUrl(session, localPath(ctx.query.return_to));
    ctx.redirect(url.toString());
  });

  router.get('/callback', async (ctx) => {
    const session = deps.sessions.current(ctx);
    try {
      if (!session)
        throw new SignInFailed(
          'This sign-in was not started in this browser, or it has expired (or cookies are blocked), so the portal did not use it. Sign in again.',
        );
      // The URL as the browser saw it: openid-client derives the redirect_uri it sends from it.
      const { user, returnTo } = await deps.rp.callback(session, new URL(ctx.originalUrl, publicUrl));
      const fresh = deps.sessions.regenerate(ctx);
      fresh.user = user;
      ctx.redirect(returnTo);
    } catch (error) {
      if (!(error instanceof SignInFailed)) throw error;
      await render(deps, ctx, 'message', { title: 'Sign-in did not complete', message: error.message, retry: true }, 400);
    }
  });

  router.post('/logout', async (ctx) => {
    const idToken = deps.sessions.current(ctx)?.user?.idToken;
    deps.sessions.destroy(ctx);
    // A fresh, empty session carries the confirmation to the page Behalf returns to (the home page).
    deps.sessions.ensure(ctx).flash = 'You have signed out of the portal.';
    let url: URL;
    try {
      url = await deps.rp.endSessionUrl(idToken);
    } catch {
      throw new PortalError(
        502,
        'Signed out of the portal',
        'You are signed out of the portal, but Behalf could not be reached to end your Behalf session.',
      );
    }
    // Behalf asks for confirmation, ends its session (and the agent's on-behalf sessions), then returns home.
    ctx.redirect(url.toString());
  });

  return router;
}

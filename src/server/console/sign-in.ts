/**
 * Signing in to the console through Behalf itself, as any relying party
 * would: authorization code with PKCE (S256), state and nonce, as the
 * built-in `admin-console` client; the ID token's `amr` must show a second
 * factor when the configuration asks for one. Whether the account is an
 * admin is the admin API's to say (the ID token carries no roles).
 */
import * as client from 'openid-client';
import type { Context } from 'koa';
import { CONSOLE_CLIENT_ID, CONSOLE_PATH, CONSOLE_SCOPE } from './console-client.js';
import type { ConsoleSessions, ConsoleUser } from './console-session.js';

export class ConsoleSignInError extends Error {
  override name = 'ConsoleSignInError';
}

export interface SignInOptions {
  issuer: string;
  clientSecret: string;
  redirectUri: string;
  postLogoutRedirectUri: string;
  requireSecondFactor: boolean;
}

export class ConsoleSignIn {
  private configuration?: Promise<client.Configuration>;

  constructor(
    private readonly options: SignInOptions,
    private readonly sessions: ConsoleSessions,
  ) {}

  private config(): Promise<client.Configuration> {
    if (!this.configuration) {
      const insecure = this.options.issuer.startsWith('http://');
      this.configuration = client
        .discovery(
          new URL(this.options.issuer),
          CONSOLE_CLIENT_ID,
          this.options.clientSecret,
          undefined,
          insecure ? { execute: [client.allowInsecureRequests] } : undefined,
        )
        .catch((error: unknown) => {
          this.configuration = undefined;
          throw error;
        });
    }
    return this.configuration;
  }

  /** Where to send the browser; only paths inside the console are kept as the place to come back to. */
  async start(ctx: Context, returnTo: string): Promise<string> {
    const config = await this.config();
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const safeReturn = returnTo.startsWith(`${CONSOLE_PATH}/`) && !returnTo.startsWith('//') ? returnTo : `${CONSOLE_PATH}/`;
    await this.sessions.startLogin(ctx, { state, nonce, verifier, returnTo: safeReturn, startedAt: Date.now() });
    return client
      .buildAuthorizationUrl(config, {
        redirect_uri: this.options.redirectUri,
        scope: CONSOLE_SCOPE,
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      })
      .toString();
  }

  async finish(ctx: Context): Promise<{ user: ConsoleUser; returnTo: string }> {
    const pending = await this.sessions.takeLogin(ctx);
    if (!pending) throw new ConsoleSignInError('This sign-in was not started in this browser, or it expired. Sign in again.');
    const config = await this.config();
    const callbackUrl = new URL(`${this.options.redirectUri}${ctx.querystring ? `?${ctx.querystring}` : ''}`);
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: pending.verifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
      });
    } catch (error) {
      if (error instanceof client.AuthorizationResponseError)
        throw new ConsoleSignInError(
          error.error === 'access_denied'
            ? 'Sign-in was cancelled.'
            : `Behalf did not sign you in: ${error.error_description ?? error.error}.`,
        );
      if (error instanceof client.ResponseBodyError || error instanceof client.ClientError)
        throw new ConsoleSignInError('The sign-in response did not check out. Sign in again.');
      throw error;
    }
    const claims = tokens.claims();
    if (!claims) throw new ConsoleSignInError('Behalf returned no ID token.');
    const amr = Array.isArray(claims.amr) ? claims.amr : [];
    if (this.options.requireSecondFactor && !amr.includes('otp'))
      throw new ConsoleSignInError(
        'The admin console needs a second factor: enrol an authenticator app (ask another admin to reset your second factor), then sign in again.',
      );
    return {
      returnTo: pending.returnTo,
      user: {
        sub: claims.sub,
        name: typeof claims.name === 'string' ? claims.name : typeof claims.email === 'string' ? claims.email : claims.sub,
        email: typeof claims.email === 'string' ? claims.email : null,
        accessToken: tokens.access_token,
        idToken: tokens.id_token ?? '',
        expiresAt: Date.now() + (tokens.expiresIn() ?? 300) * 1000,
      },
    };
  }

  async endSessionUrl(idToken: string | undefined): Promise<string> {
    const config = await this.config();
    return client
      .buildEndSessionUrl(config, {
        post_logout_redirect_uri: this.options.postLogoutRedirectUri,
        ...(idToken ? { id_token_hint: idToken } : {}),
      })
      .toString();
  }
}

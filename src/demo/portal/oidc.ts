/**
 * The portal as an OpenID Connect relying party of Behalf (openid-client):
 * authorization code with PKCE (S256), state and nonce; RP-initiated logout.
 * Discovery is lazy and retried, so the portal may start before Behalf.
 */
import * as client from 'openid-client';
import { PortalError } from './behalf-api.js';
import type { PortalSession, SignedInUser } from './session.js';

/** What the portal asks for: who the staff member is, and read access to Behalf's directory. */
export const PORTAL_SCOPE = 'openid profile email directory:read';

export interface RelyingPartyOptions {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The portal's public base URL; redirect and post-logout URIs derive from it. */
  publicUrl: string;
}

export class SignInFailed extends Error {
  override name = 'SignInFailed';
}

export class RelyingParty {
  private configuration?: Promise<client.Configuration>;
  readonly redirectUri: string;
  readonly postLogoutRedirectUri: string;

  constructor(private readonly options: RelyingPartyOptions) {
    this.redirectUri = `${options.publicUrl}/callback`;
    this.postLogoutRedirectUri = `${options.publicUrl}/`;
  }

  private config(): Promise<client.Configuration> {
    if (!this.configuration) {
      const insecure = this.options.issuer.startsWith('http://');
      this.configuration = client
        .discovery(
          new URL(this.options.issuer),
          this.options.clientId,
          this.options.clientSecret,
          undefined,
          insecure ? { execute: [client.allowInsecureRequests] } : undefined,
        )
        .catch(() => {
          // Forget the failure: the next request tries again (Behalf may just be starting).
          this.configuration = undefined;
          throw new PortalError(
            502,
            'Behalf is not answering',
            `The portal could not read Behalf’s discovery document at ${this.options.issuer}. Try again in a moment.`,
          );
        });
    }
    return this.configuration;
  }

  /** Starts a sign-in: remembers the checks in the session and returns where to send the browser. */
  async authorizationUrl(session: PortalSession, returnTo: string): Promise<URL> {
    const config = await this.config();
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    session.pendingLogin = { state, nonce, verifier, returnTo, afterRefusal: session.refused ?? false };
    return client.buildAuthorizationUrl(config, {
      redirect_uri: this.redirectUri,
      scope: PORTAL_SCOPE,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
  }

  /** Completes a sign-in from the callback URL (as the browser saw it). */
  async callback(session: PortalSession, callbackUrl: URL): Promise<{ user: SignedInUser; returnTo: string }> {
    const pending = session.pendingLogin;
    if (!pending)
      throw new SignInFailed(
        'This sign-in was not started in this browser, or it has expired or was already used, so the portal did not use it. Sign in again.',
      );
    session.pendingLogin = undefined;
    const config = await this.config();
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: pending.verifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
      });
    } catch (error) {
      if (error instanceof client.AuthorizationResponseError) {
        throw new SignInFailed(
          error.error === 'access_denied'
            ? 'Sign-in was cancelled.'
            : `Behalf did not sign you in: ${error.error_description ?? error.error}.`,
        );
      }
      if (error instanceof client.ResponseBodyError)
        throw new SignInFailed(`Behalf refused the sign-in: ${error.error_description ?? error.error}.`);
      if (error instanceof client.ClientError) throw new SignInFailed('The sign-in response did not check out. Sign in again.');
      throw error;
    }
    const claims = tokens.claims();
    if (!claims) throw new SignInFailed('Behalf returned no ID token.');
    const granted = new Set((tokens.scope ?? PORTAL_SCOPE).split(' '));
    if (!granted.has('directory:read')) throw new SignInFailed('Behalf did not grant access to the directory.');
    return {
      returnTo: pending.returnTo,
      user: {
        sub: claims.sub,
        name: typeof claims.name === 'string' ? claims.name : typeof claims.email === 'string' ? claims.email : claims.sub,
        email: typeof claims.email === 'string' ? claims.email : null,
        accessToken: tokens.access_token,
        accessTokenExpiresAt: Date.now() + (tokens.expiresIn() ?? 300) * 1000,
        idToken: tokens.id_token,
        signedInAt: Date.now(),
        afterRefusal: pending.afterRefusal,
      },
    };
  }

  /** Behalf's end-session URL (RP-initiated logout), coming back to the portal's home page. */
  async endSessionUrl(idToken: string | undefined): Promise<URL> {
    const config = await this.config();
    return client.buildEndSessionUrl(config, {
      post_logout_redirect_uri: this.postLogoutRedirectUri,
      ...(idToken ? { id_token_hint: idToken } : {}),
    });
  }
}

/**
 * Everything the storefront says to Behalf as an OpenID Connect relying party,
 * through openid-client: discovery (per store client, lazily and retried, so
 * the storefront may start before Behalf), authorization URLs with PKCE,
 * code redemption, the RFC 8693 token exchange and RP-initiated logout.
 * ID tokens that arrive outside a code flow (the exchange's banner token)
 * are verified with jose against Behalf's published keys.
 */
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import * as client from 'openid-client';
import type { DpopKeyPair } from './dpop.js';
import { PageError } from './http.js';
import type { StoreDefinition } from './stores.js';

import { GRANT_TYPE as TOKEN_EXCHANGE, TOKEN_TYPES } from '../../token-exchange/urns.js';

export const ID_TOKEN_TYPE = TOKEN_TYPES.idToken;

export interface OidcOptions {
  issuer: string;
  clientSecret: string;
  /** The storefront's public base URL (redirect URIs are built from it). */
  publicUrl: string;
  /** Algorithms accepted for ID tokens (the clients' registered default is RS256). */
  idTokenAlgorithms?: string[];
}

export interface BannerClaims {
  customerId: string;
  customerName: string;
  agentId: string;
  agentName: string;
  sessionId: string;
}

export class OidcClients {
  private readonly configs = new Map<string, Promise<client.Configuration>>();
  private jwks?: ReturnType<typeof createRemoteJWKSet>;

  constructor(private readonly options: OidcOptions) {}

  redirectUri(store: StoreDefinition): string {
    return `${this.options.publicUrl}/${store.slug}/callback`;
  }

  postLogoutRedirectUri(store: StoreDefinition): string {
    return `${this.options.publicUrl}/${store.slug}/`;
  }

  /** The store's client configuration; a failed discovery is forgotten so the next request retries. */
  config(store: StoreDefinition): Promise<client.Configuration> {
    let found = this.configs.get(store.slug);
    if (!found) {
      const insecure = this.options.issuer.startsWith('http://');
      found = guard(
        client.discovery(
          new URL(this.options.issuer),
          store.clientId,
          this.options.clientSecret,
          client.ClientSecretBasic(this.options.clientSecret),
          insecure ? { execute: [client.allowInsecureRequests] } : undefined,
        ),
      );
      found.catch(() => this.configs.delete(store.slug));
      this.configs.set(store.slug, found);
    }
    return found;
  }

  /**
   * An authorization request URL with PKCE (S256) and `state`. Pushed (RFC 9126): the parameters go to
   * Behalf on the back channel, authenticated, and the URL carries only `client_id` and `request_uri`.
   */
  async authorizationUrl(
    store: StoreDefinition,
    verifier: string,
    state: string,
    params: Record<string, string>,
    options: { pushed?: boolean } = {},
  ): Promise<string> {
    const config = await this.config(store);
    const parameters = {
      redirect_uri: this.redirectUri(store),
      response_type: 'code',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      ...params,
    };
    if (options.pushed) return (await guard(client.buildAuthorizationUrlWithPAR(config, parameters))).toString();
    return client.buildAuthorizationUrl(config, parameters).toString();
  }

  /** Redeems the code in `callbackQuery` (the callback's raw query string). */
  async redeem(
    store: StoreDefinition,
    callbackQuery: string,
    checks: { verifier: string; state: string; nonce?: string },
    params: Record<string, string> = {},
  ) {
    const config = await this.config(store);
    // openid-client derives redirect_uri from this URL: it must be the registered (public) one.
    const currentUrl = new URL(`${this.redirectUri(store)}?${callbackQuery}`);
    return guard(
      client.authorizationCodeGrant(
        config,
        currentUrl,
        { pkceCodeVerifier: checks.verifier, expectedState: checks.state, ...(checks.nonce ? { expectedNonce: checks.nonce } : {}) },
        params,
      ),
    );
  }

  /**
   * Login on behalf: the customer as subject, the agent's re-authentication token as actor (RFC 8693 §2.1),
   * with a DPoP proof of `dpop` (RFC 9449 §5), so the access token is bound to that key.
   */
  async exchangeOnBehalf(
    store: StoreDefinition,
    customerId: string,
    actorToken: string,
    params: Record<string, string>,
    dpop: DpopKeyPair,
  ) {
    const config = await this.config(store);
    return guard(
      client.genericGrantRequest(
        config,
        TOKEN_EXCHANGE,
        {
          subject_token: customerId,
          subject_token_type: TOKEN_TYPES.accountId,
          actor_token: actorToken,
          actor_token_type: TOKEN_TYPES.accessToken,
          ...params,
        },
        { DPoP: client.getDPoPHandle(config, dpop) },
      ),
    );
  }

  /**
   * Verifies the banner's ID token from the exchange: Behalf's signature, our
   * client as audience, Behalf as issuer, unexpired; then that it names the
   * customer we asked for and carries an actor with a name and a session.
   */
  async verifyBannerToken(store: StoreDefinition, idToken: string, expectedCustomer: string): Promise<BannerClaims> {
    const config = await this.config(store);
    const metadata = config.serverMetadata();
    this.jwks ??= createRemoteJWKSet(new URL(metadata.jwks_uri!));
    const { payload } = await jwtVerify(idToken, this.jwks, {
      issuer: metadata.issuer,
      audience: store.clientId,
      algorithms: this.options.idTokenAlgorithms ?? ['RS256'],
      requiredClaims: ['sub', 'exp', 'iat'],
    });
    const act = payload.act as { sub?: unknown; name?: unknown } | undefined;
    if (payload.sub !== expectedCustomer) throw new Error('the ID token names another customer');
    if (!act || typeof act.sub !== 'string' || typeof act.name !== 'string' || !act.name)
      throw new Error('the ID token has no actor with a name');
    if (typeof payload.obo_sid !== 'string' || !payload.obo_sid) throw new Error('the ID token names no on-behalf session');
    return {
      customerId: payload.sub,
      customerName: displayName(payload),
      agentId: act.sub,
      agentName: act.name,
      sessionId: payload.obo_sid,
    };
  }

  /** Behalf's RP-initiated logout URL: back to the store's home page afterwards. */
  async endSessionUrl(store: StoreDefinition, idToken: string | undefined): Promise<string> {
    const config = await this.config(store);
    return client
      .buildEndSessionUrl(config, {
        ...(idToken ? { id_token_hint: idToken } : {}),
        client_id: store.clientId,
        post_logout_redirect_uri: this.postLogoutRedirectUri(store),
      })
      .toString();
  }
}

/**
 * Behalf's own refusals (an OAuth error body or error redirect) pass through
 * for the caller to explain; Behalf being unreachable, or answering in a way
 * the protocol does not allow, becomes a page that says so (503, 502).
 */
async function guard<T>(pending: Promise<T>): Promise<T> {
  try {
    return await pending;
  } catch (caught) {
    if (caught instanceof client.ResponseBodyError || caught instanceof client.AuthorizationResponseError) throw caught;
    if (isNetworkFailure(caught) || isNetworkFailure((caught as { cause?: unknown } | null)?.cause)) {
      throw new PageError(
        503,
        'Sign-in is unavailable',
        'Behalf, the sign-in service, cannot be reached right now. Try again in a moment.',
      );
    }
    if (caught instanceof client.ClientError)
      throw new PageError(502, 'Sign-in failed', 'Behalf’s answer could not be accepted, so nothing was signed in.', caught.message);
    throw caught;
  }
}

/** fetch's own failure (refused, reset, DNS, timeout). Compared by name: errors may come from another realm. */
function isNetworkFailure(error: unknown): boolean {
  const { name, message } = (error ?? {}) as { name?: unknown; message?: unknown };
  return (name === 'TypeError' && message === 'fetch failed') || name === 'TimeoutError' || name === 'AbortError';
}

export function displayName(claims: JWTPayload | client.IDToken): string {
  if (typeof claims.name === 'string' && claims.name) return claims.name;
  if (typeof claims.email === 'string' && claims.email) return claims.email;
  return 'Customer';
}

/** "what Behalf said" from an openid-client error, for the person reading the page. */
export function oauthError(error: unknown): { code: string; description?: string } | undefined {
  if (error instanceof client.ResponseBodyError || error instanceof client.AuthorizationResponseError) {
    return { code: error.error, ...(error.error_description ? { description: error.error_description } : {}) };
  }
  return undefined;
}

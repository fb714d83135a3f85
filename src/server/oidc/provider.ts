/**
 * Builds the oidc-provider instance. Everything oidc-provider-specific about
 * Behalf's configuration is in this folder; the rest of the code does not
 * know which OIDC library it runs on.
 */
import Provider, { errors, interactionPolicy, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../../../config/load.js';
import type { AccountService } from '../../accounts/account-service.js';
import type { StoreService } from '../../accounts/store-service.js';
import type { ResourceServerRegistry } from '../clients/resource-servers.js';
import type { Renderer } from '../views/renderer.js';
import { BEHALF_CLIENT_PROPERTIES, behalfClient, validateBehalfClientProperty } from './client-metadata.js';
import { createFindAccount } from './find-account.js';
import { pkceRequired } from './pkce-policy.js';
import { createLoadExistingGrant, type ImplicitConsentListener, type ReauthScopeRefusalListener } from './first-party-grant.js';
import { clientMayUseSession } from './session-policy.js';
import { SUPPORTED_SCOPES } from './scopes.js';
import { normaliseResourceIndicator } from '../clients/resource-indicator.js';
import { isUuid } from '../../common/uuid.js';
import { acceptPreviousClientSecret } from './provider-internals.js';

export interface ProviderDependencies {
  config: Config;
  jwks: { keys: Record<string, unknown>[] };
  adapter: (model: string) => unknown;
  accounts: AccountService;
  stores: StoreService;
  resourceServers: ResourceServerRegistry;
  renderer: Renderer;
  /** Koa middleware installed inside oidc-provider's own app (audit of its endpoints). */
  use?: ((ctx: KoaContextWithOIDC, next: () => Promise<void>) => Promise<void>)[];
  /** Told when a first-party client's grant is widened without a consent screen. */
  onImplicitConsent?: ImplicitConsentListener;
  /** Told when a login-on-behalf re-authentication asked for more than `openid` (it gets `openid` only). */
  onReauthScopeRefused?: ReauthScopeRefusalListener;
  /** Whether a grant is a login-on-behalf re-authentication's (it never yields a refresh token). */
  isReauthGrant?: (grantId: string) => Promise<boolean>;
  /** A rotated-out client secret still within its grace period (see clients/client-repository.ts). */
  previousClientSecret?: (clientId: string) => Promise<string | undefined>;
  /** RFC 7591/7592 dynamic registration (oidc/registration.ts); off when absent. */
  registration?: Pick<NonNullable<Configuration['features']>, 'registration' | 'registrationManagement'>;
  /** Extension grants (token exchange), registered after construction. */
  grants?: { name: string; handler: (ctx: KoaContextWithOIDC) => Promise<void>; parameters: string[]; dupes: string[] }[];
  /** Adds claims to each JWT access token as it is signed (the token status list's `status`). */
  jwtCustomizer?: NonNullable<NonNullable<Configuration['formats']>['customizers']>['jwt'];
}

/** Behalf's own cookie names, so it never collides with the portal or storefront on localhost. */
export const COOKIE_NAMES = {
  session: 'behalf.session',
  interaction: 'behalf.interaction',
  resume: 'behalf.resume',
  state: 'behalf.state',
};

/**
 * The scopes clients may ask for (resource servers add their own). One list for
 * the provider and for client registration (clients/register.ts), so a client
 * that registers can also sign in. `directory:read`: the portal's access to
 * the directory API (contacts and accounts), staff only.
 */

function audienceOf(token: { aud?: string | string[] }): string[] {
  if (!token.aud) return [];
  return Array.isArray(token.aud) ? token.aud : [token.aud];
}

export function buildProvider(deps: ProviderDependencies): Provider {
  const { config, renderer, resourceServers } = deps;
  const secureCookies = config.issuer.startsWith('https://');
  const { Check } = interactionPolicy;
  const policy = interactionPolicy.base();
  policy.get('login')!.checks.add(
    new Check('client_audience', 'the signed-in account cannot use this client', async (ctx: KoaContextWithOIDC) => {
      const { session, client } = ctx.oidc;
      if (!session?.accountId || !client) return Check.NO_NEED_TO_PROMPT;
      // Staff at a storefront: allowed only as the result of this request's own login-on-behalf re-authentication.
      if (ctx.oidc.params?.on_behalf_of && ctx.oidc.result?.login) return Check.NO_NEED_TO_PROMPT;
      return (await clientMayUseSession(deps, behalfClient(client), session.accountId)) ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
    }),
  );

  const renderError: NonNullable<Configuration['renderError']> = async (ctx, out) => {
    ctx.type = 'html';
    ctx.body = renderer.page('message', {
      title: 'Something went wrong',
      message: out.error_description ?? 'The request could not be completed.',
      detail: `Error: ${out.error}`,
    });
  };

  const configuration: Configuration = {
    adapter: deps.adapter as Configuration['adapter'],
    clients: config.clients as Configuration['clients'],
    jwks: deps.jwks as Configuration['jwks'],
    findAccount: createFindAccount(deps.accounts),
    cookies: {
      names: COOKIE_NAMES,
      keys: config.secrets.cookieKeys,
      long: { signed: true, httpOnly: true, sameSite: 'lax', secure: secureCookies },
      short: { signed: true, httpOnly: true, sameSite: 'lax', secure: secureCookies },
    },
    claims: {
      // amr rides with openid so every ID token says how the user authenticated.
      openid: ['sub', 'amr'],
      acr: null,
      sid: null,
      auth_time: null,
      iss: null,
      profile: ['name', 'preferred_username', 'store'],
      email: ['email'],
    },
    scopes: [...SUPPORTED_SCOPES],
    responseTypes: ['code', 'none'],
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      id_token_signed_response_alg: 'RS256',
      token_endpoint_auth_method: 'client_secret_basic',
      // auth_time in every ID token: relying parties (and login on behalf) judge freshness by it.
      require_auth_time: true,
    },
    enabledJWA: {
      idTokenSigningAlgValues: ['RS256', 'ES256'],
      userinfoSigningAlgValues: ['RS256', 'ES256'],
      introspectionSigningAlgValues: ['RS256', 'ES256'],
      authorizationSigningAlgValues: ['RS256', 'ES256'],
    },
    extraClientMetadata: {
      properties: BEHALF_CLIENT_PROPERTIES,
      validator: validateBehalfClientProperty as NonNullable<Configuration['extraClientMetadata']>['validator'],
    },
    pkce: {
      // Every client unless a confidential one opted out (RFC 9700 §2.1.1, see pkce-policy.ts); S256 is the only method enabled.
      required: (_ctx, client) => pkceRequired(client),
    },
    interactions: {
      policy,
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    loadExistingGrant: createLoadExistingGrant({
      onImplicitConsent: deps.onImplicitConsent,
      onReauthScopeRefused: deps.onReauthScopeRefused,
    }),
    // A re-authentication grant holds `openid` only (see first-party-grant.ts), so it never has
    // offline_access; asking the database too keeps a refresh token off it whatever the scope says.
    issueRefreshToken: async (_ctx, client, code) => {
      if (!client.grantTypeAllowed('refresh_token') || !code.scopes.has('offline_access')) return false;
      const grantId = (code as { grantId?: string }).grantId;
      return !(grantId && (await deps.isReauthGrant?.(grantId)));
    },
    features: {
      ...deps.registration,
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      userinfo: { enabled: true },
      // RFC 9449: DPoP-bound access tokens (oidc-provider's grants; the token exchange in grants/token-exchange.ts).
      dPoP: { enabled: true },
      // RFC 9126: pushed authorization requests; required per client (sender-constraint-metadata.ts).
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: false },
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      introspection: {
        enabled: true,
        // Only the token's own client and the resource servers in its audience may look inside it.
        allowedPolicy: async (_ctx, client, token) => {
          if (token.clientId === client.clientId) return true;
          const operated = new Set(behalfClient(client).resourceServers);
          return audienceOf(token as { aud?: string | string[] }).some((aud) => operated.has(aud));
        },
      },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          const client = ctx.oidc.client;
          ctx.type = 'html';
          ctx.body = renderer.page('logout', { title: 'Sign out', form, clientName: client?.clientName ?? client?.clientId });
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.type = 'html';
          ctx.body = renderer.page('message', { title: 'Signed out', message: 'You have signed out of Behalf.' });
        },
      },
      resourceIndicators: {
        enabled: true,
        // RFC 8707 leaves the default to the server. Only client_credentials takes the client's default_resource
        // (a token for that resource server, as configured: JWT per RFC 9068 or opaque). Authorization and code /
        // refresh requests keep to the resources the authorization asked for; `oneOf` (several granted) stays as
        // oidc-provider's own default has it, so the request must pick one.
        defaultResource: async (ctx, client, oneOf) => {
          if (oneOf) return oneOf;
          if (ctx.oidc?.route === 'token' && ctx.oidc.params?.grant_type === 'client_credentials' && client)
            return behalfClient(client).defaultResource;
          return undefined;
        },
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, indicator, client) => {
          const resourceServer = resourceServers.get(indicator);
          if (!resourceServer) throw new errors.InvalidTarget(`unknown resource server ${indicator}`);
          if (!behalfClient(client).allowedResources.includes(resourceServer.identifier)) {
            throw new errors.InvalidTarget(`client is not allowed tokens for ${resourceServer.identifier}`);
          }
          const ttl = resourceServer.accessTokenTtl ?? config.tokens.resourceAccessTokenTtl;
          return {
            scope: resourceServer.scopes.join(' '),
            audience: normaliseResourceIndicator(resourceServer.identifier),
            accessTokenTTL: ttl,
            ...(resourceServer.tokenFormat === 'jwt'
              ? { accessTokenFormat: 'jwt' as const, jwt: { sign: { alg: 'ES256' as const } } }
              : { accessTokenFormat: 'opaque' as const }),
          };
        },
      },
    },
    ttl: {
      // A resource server's own lifetime wins (exchanged tokens set theirs per token).
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? config.tokens.accessTokenTtl,
      AuthorizationCode: config.tokens.authorizationCodeTtl,
      ClientCredentials: config.tokens.clientCredentialsTtl,
      IdToken: config.tokens.idTokenTtl,
      RefreshToken: config.tokens.refreshTokenTtl,
      Interaction: config.tokens.interactionTtl,
      Session: config.tokens.sessionTtl,
      Grant: config.tokens.grantTtl,
    },
    // oidc-provider replaces a token's `extra` with what this returns: keep the claims an exchange
    // set (act, obo_sid), and add may_act where the client's issuance policy names an actor.
    extraTokenClaims: async (ctx, token) => {
      const extra = { ...((token as { extra?: Record<string, unknown> }).extra ?? {}) };
      const client = ctx?.oidc?.client;
      if (client && client.clientId === token.clientId && !extra.may_act) {
        const mayAct = behalfClient(client).mayAct;
        if (mayAct) extra.may_act = { sub: mayAct };
      }
      return extra;
    },
    // CORS only for a client's own registered origins (its redirect URIs), and only where a
    // browser legitimately calls Behalf directly: userinfo, and public (PKCE-only) clients.
    clientBasedCORS: (ctx, origin, client) => {
      if (origin === 'null') return false;
      if (ctx.oidc.route !== 'userinfo' && client.clientAuthMethod !== 'none') return false;
      return (client.redirectUris ?? []).some((uri) => {
        try {
          return new URL(uri).origin === origin;
        } catch {
          return false;
        }
      });
    },
    extraParams: {
      // Login on behalf: the customer the agent re-authenticates for (validated again at the screen).
      on_behalf_of(_ctx, value, client) {
        if (value === undefined) return;
        if (
          !String(_ctx.oidc.params?.prompt ?? '')
            .split(' ')
            .includes('login')
        )
          throw new errors.InvalidRequest('login on behalf requires prompt=login');
        if (!isUuid(value)) throw new errors.InvalidRequest('on_behalf_of must be a customer account id');
        assertPushedWhereRequired(_ctx, client);
      },
    },
    rotateRefreshToken: true,
    ...(deps.jwtCustomizer ? { formats: { customizers: { jwt: deps.jwtCustomizer } } } : {}),
    // Put the scope's claims (name, email, store) in the ID token too, as relying parties expect.
    conformIdTokenClaims: false,
    renderError,
  };

  const provider = new Provider(config.issuer, configuration);
  provider.proxy = config.proxy;
  if (deps.previousClientSecret) acceptPreviousClientSecret(provider, deps.previousClientSecret);
  for (const middleware of deps.use ?? []) provider.use(middleware as Parameters<Provider['use']>[0]);
  for (const grant of deps.grants ?? []) provider.registerGrantType(grant.name, grant.handler as never, grant.parameters, grant.dupes);
  provider.use(unauthorizedClientForDisallowedGrant as Parameters<Provider['use']>[0]);
  provider.use(answerLateErrors(renderError) as Parameters<Provider['use']>[0]);
  return provider;
}

/**
 * RFC 9126: a client that must push its login-on-behalf requests (`behalf_require_par_on_behalf`,
 * or `require_pushed_authorization_requests` for all of them) cannot send `on_behalf_of` in a browser URL.
 * oidc-provider runs this at the PAR endpoint too, where the request is being pushed.
 */
function assertPushedWhereRequired(ctx: KoaContextWithOIDC, client: Parameters<typeof behalfClient>[0] | undefined): void {
  if (ctx.oidc.route !== 'authorization' || !client || !behalfClient(client).requireParOnBehalf) return;
  if ('PushedAuthorizationRequest' in ctx.oidc.entities) return;
  throw new errors.InvalidRequest(
    'this client must push login-on-behalf requests (RFC 9126): POST them to the pushed_authorization_request_endpoint and send the browser only client_id and request_uri',
  );
}

/**
 * oidc-provider saves the browser session after its endpoint's own error
 * handler has run, so a failure there (a request parameter the session cannot
 * store, a database error) reached Koa's default handler: a plain-text answer,
 * every header already set (X-Request-Id, CSP, …) removed, and a 500 for what
 * may be the client's mistake. Answer it the way oidc-provider's own error
 * handler does: an HTML page for browsers, the OAuth JSON error otherwise.
 */
function answerLateErrors(renderError: NonNullable<Configuration['renderError']>) {
  return async function lateErrors(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
    try {
      await next();
    } catch (error) {
      if (ctx.headerSent) throw error;
      const exposed = error instanceof errors.OIDCProviderError && error.expose ? error : undefined;
      const out = exposed
        ? { error: exposed.error, ...(exposed.error_description ? { error_description: exposed.error_description } : {}) }
        : { error: 'server_error', error_description: 'oops! something went wrong' };
      ctx.status = exposed?.statusCode ?? 500;
      if (ctx.accepts('json', 'html') === 'html') await renderError(ctx, out, error as Error);
      else ctx.body = out;
      if (!exposed) ctx.oidc?.provider.emit('server_error', ctx, error);
    }
  };
}

/**
 * RFC 6749 §5.2: an authenticated client asking for a grant type it is not
 * registered for gets `unauthorized_client`; oidc-provider answers
 * `invalid_request`. Only that refusal is rewritten: the client authenticated,
 * the grant type is one the server supports, and the client may not use it.
 */
async function unauthorizedClientForDisallowedGrant(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
  await next();
  const { oidc } = ctx;
  const body = ctx.body as { error?: unknown } | undefined;
  const grantType: unknown = oidc?.params?.grant_type;
  if (
    oidc?.route === 'token' &&
    ctx.status === 400 &&
    body?.error === 'invalid_request' &&
    oidc.client &&
    typeof grantType === 'string' &&
    !oidc.client.grantTypeAllowed(grantType)
  ) {
    body.error = 'unauthorized_client';
  }
  // RFC 6749 §5.2: "no client authentication included" is invalid_client (401), which
  // oidc-provider reports as invalid_request.
  const description = (body as { error_description?: unknown } | undefined)?.error_description;
  if (ctx.status === 400 && body?.error === 'invalid_request' && description === 'no client authentication mechanism provided') {
    body.error = 'invalid_client';
    ctx.status = 401;
    ctx.set('WWW-Authenticate', 'Basic realm="behalf"');
  }
}

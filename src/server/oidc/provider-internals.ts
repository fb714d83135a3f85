/**
 * The only place that reaches into oidc-provider beyond its documented API.
 * Each use is a cast around something the library does not expose; if an
 * upgrade breaks one, it breaks here, with the reason written beside it.
 */
import { createHash, generateKeyPairSync, timingSafeEqual } from 'node:crypto';
import Provider, { errors, type KoaContextWithOIDC } from 'oidc-provider';
// Not in the package's documented API: the DPoP proof validation oidc-provider's own grants run
// (lib/actions/grants/*: validateDpop, then checkDpopReplay). A custom grant gets only `ctx`, and the
// proof must be checked exactly as for the built-in grants: typ, alg, embedded public jwk, htm/htu,
// iat window, nonces when configured, and one use per jti (ReplayDetection, kept in PostgreSQL).
import validateDpop, { checkDpopReplay } from 'oidc-provider/lib/helpers/validate_dpop.js';
import { BEHALF_CLIENT_PROPERTIES, validateBehalfClientProperty } from './client-metadata.js';
import { SUPPORTED_SCOPES } from './scopes.js';

type AccessTokenInstance = InstanceType<Provider['AccessToken']>;
type IdTokenInstance = InstanceType<Provider['IdToken']>;

/**
 * Gives a token its id before `save()`: the exchange writes the audit record that names the token
 * before the token is stored, and oidc-provider would only generate the id while saving.
 */
export function assignTokenId(token: AccessTokenInstance): string {
  if (!token.jti) token.jti = (token as unknown as { generateTokenId(): string }).generateTokenId();
  return token.jti;
}

/**
 * An ID token made outside a code flow (the exchange's banner token) has no scope of its own;
 * oidc-provider's claim filtering reads `scope` from the instance, so `openid` is set on it.
 */
export function withOpenIdScope(token: IdTokenInstance): IdTokenInstance {
  (token as unknown as { scope: string }).scope = 'openid';
  return token;
}

/**
 * RFC 9449 §4.3 for a token request: the DPoP proof in the `DPoP` header, validated and spent (its
 * jti cannot be used again by this client); undefined without a header. A bad proof throws
 * `invalid_dpop_proof` (or `use_dpop_nonce`), as for oidc-provider's own grants.
 */
export async function tokenRequestDpopProof(ctx: KoaContextWithOIDC): Promise<{ jkt: string } | undefined> {
  const { provider, client } = ctx.oidc;
  const proof = await validateDpop(provider, ctx);
  if (!proof) return undefined;
  await checkDpopReplay(provider, ctx, proof, client!.clientId, errors.InvalidDpopProof);
  return { jkt: proof.thumbprint };
}

let validator: Provider | undefined;

/**
 * A key-less provider used only to run oidc-provider's client metadata validation, so that a
 * registration made by the CLI or an API fails when it is made, not at the client's first use.
 */
export function clientMetadataValidator(grantTypes: string[]): Provider {
  if (validator) return validator;
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  validator = new Provider('https://validator.invalid', {
    jwks: {
      keys: [
        { ...ec, alg: 'ES256', use: 'sig' },
        { ...rsa, alg: 'RS256', use: 'sig' },
      ],
    } as never,
    enabledJWA: { idTokenSigningAlgValues: ['RS256', 'ES256'], userinfoSigningAlgValues: ['RS256', 'ES256'] },
    adapter: () => ({ find: async () => undefined }) as never,
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
    },
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      id_token_signed_response_alg: 'RS256',
      token_endpoint_auth_method: 'client_secret_basic',
    },
    responseTypes: ['code', 'none'],
    extraClientMetadata: { properties: BEHALF_CLIENT_PROPERTIES, validator: validateBehalfClientProperty as never },
    scopes: [...SUPPORTED_SCOPES],
  });
  // Extension grants must be known for clients that list them; their real handlers live in the real provider.
  for (const grantType of grantTypes) validator.registerGrantType(grantType, async () => undefined);
  return validator;
}

/**
 * The fields of `metadata` that oidc-provider does not recognise (it would drop them silently):
 * a typo such as `default_resources` is then an error the admin API can name. The metadata must
 * already be valid. Constructing a Client is what `Client.validate` does inside; the class is not
 * documented as constructible.
 */
export function unrecognisedClientMetadata(metadata: Record<string, unknown>, grantTypes: string[]): string[] {
  const ClientClass = clientMetadataValidator(grantTypes).Client as unknown as new (metadata: unknown) => { metadata(): object };
  const kept = new Set(Object.keys(new ClientClass(metadata).metadata()));
  return Object.keys(metadata).filter((key) => !kept.has(key));
}

/** Equal strings, compared in constant time (over their SHA-256 digests, so lengths do not leak either). */
function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/**
 * Secret rotation with a grace period: client_secret_basic/post accept the secret a rotation
 * replaced until its grace ends. oidc-provider compares secrets in `Client#compareClientSecret`
 * (lib/shared/client_auth.js awaits it), which is not a documented hook: it is wrapped here, per
 * provider, to try the previous secret after the current one fails.
 */
export function acceptPreviousClientSecret(provider: Provider, previousSecret: (clientId: string) => Promise<string | undefined>): void {
  type ClientInternals = { clientId: string; compareClientSecret(actual: string): boolean | Promise<boolean> };
  const prototype = provider.Client.prototype as unknown as ClientInternals;
  const current = prototype.compareClientSecret;
  prototype.compareClientSecret = async function compareClientSecret(this: ClientInternals, actual: string): Promise<boolean> {
    if (await current.call(this, actual)) return true;
    if (typeof actual !== 'string' || !actual) return false;
    const previous = await previousSecret(this.clientId);
    return previous !== undefined && sameSecret(previous, actual);
  };
}

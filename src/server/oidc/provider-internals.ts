/**
 * The only place that reaches into oidc-provider beyond its documented API.
 * Each use is a cast around something the library does not expose; if an
 * upgrade breaks one, it breaks here, with the reason written beside it.
 */
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';
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

/**
 * What a client registered through RFC 7591 dynamic registration may be: a
 * machine-to-machine `service` client, authenticating with its secret, asking
 * tokens only for the resources its initial access token allowed. Everything
 * that gives power over others (first party, login on behalf, a store,
 * operating resource servers — which lets it introspect their tokens — or
 * PKCE opt-outs) stays with administrators. Pure: no I/O.
 */
import { GRANT_TYPE as TOKEN_EXCHANGE_GRANT } from '../../token-exchange/types.js';
import { normaliseResourceIndicator } from './resource-indicator.js';

export interface IntegratorProblem {
  /** RFC 7591 §3.2.2 error code. */
  error: 'invalid_client_metadata' | 'invalid_redirect_uri';
  description: string;
}

/** Grants a service client may use: its own tokens and token exchange (delegation). */
const SERVICE_GRANTS = new Set(['client_credentials', TOKEN_EXCHANGE_GRANT]);
const SECRET_METHODS = new Set(['client_secret_basic', 'client_secret_post']);

/** Fields reserved to administrators, with the only value a registration may carry (the one every client has by default). */
const RESERVED: [string, (value: unknown) => boolean][] = [
  ['first_party', (value) => value === false],
  ['client_kind', (value) => value === 'service'],
  ['store', () => false],
  ['on_behalf', () => false],
  ['resource_servers', (value) => Array.isArray(value) && value.length === 0],
  ['behalf_pkce_optional', (value) => value === false],
];

function normalised(value: string): string | undefined {
  try {
    return normaliseResourceIndicator(value);
  } catch {
    return undefined;
  }
}

/**
 * Checks `properties` (a registration or RFC 7592 update request) against the allowance and
 * fills in what a service client needs (kind, grants, resources); returns the first problem.
 * `resolve` finds a resource server's identifier by identifier or alias.
 */
export function applyIntegratorPolicy(
  properties: Record<string, unknown>,
  allowance: string[],
  resolve: (value: string) => string | undefined,
): IntegratorProblem | undefined {
  const invalid = (description: string): IntegratorProblem => ({ error: 'invalid_client_metadata', description });
  for (const [field, harmless] of RESERVED) {
    if (properties[field] !== undefined && !harmless(properties[field]))
      return invalid(`${field} cannot be set by dynamic registration (ask an administrator)`);
  }
  properties.client_kind = 'service';

  const grants = properties.grant_types ?? ['client_credentials'];
  if (!Array.isArray(grants) || !grants.length || !grants.every((grant) => typeof grant === 'string' && SERVICE_GRANTS.has(grant)))
    return invalid(`grant_types: a dynamically registered client may use ${[...SERVICE_GRANTS].join(' and ')} only`);
  properties.grant_types = grants;
  const redirects = properties.redirect_uris;
  if (redirects !== undefined && !(Array.isArray(redirects) && redirects.length === 0))
    return { error: 'invalid_redirect_uri', description: 'redirect_uris: a dynamically registered client uses no redirect-based grant' };
  properties.redirect_uris = [];
  const responses = properties.response_types;
  if (responses !== undefined && !(Array.isArray(responses) && responses.length === 0))
    return invalid('response_types: a dynamically registered client uses no redirect-based grant');
  properties.response_types = [];
  const method = properties.token_endpoint_auth_method ?? 'client_secret_basic';
  if (typeof method !== 'string' || !SECRET_METHODS.has(method))
    return invalid(`token_endpoint_auth_method must be one of ${[...SECRET_METHODS].join(', ')}`);
  properties.token_endpoint_auth_method = method;

  const resources = properties.allowed_resources ?? allowance;
  if (!Array.isArray(resources) || !resources.every((item) => typeof item === 'string'))
    return invalid('allowed_resources must be an array of resource indicators');
  const outside = resources.find((item) => !allowance.includes(normalised(item) ?? ''));
  if (outside !== undefined) return invalid(`allowed_resources: ${outside} is not allowed by the initial access token`);
  properties.allowed_resources = resources;
  // One resource: it is the default, so client_credentials without `resource` gets a token for it.
  if (properties.default_resource === undefined && resources.length === 1) properties.default_resource = resources[0];

  const allowedIdentifiers = new Set(resources.map((item) => normalised(item)));
  const rules = properties.delegation;
  if (Array.isArray(rules)) {
    for (const rule of rules as { from?: unknown; to?: unknown }[]) {
      for (const end of ['from', 'to'] as const) {
        const value = rule?.[end];
        if (typeof value !== 'string') continue; // the metadata validator names malformed rules
        const identifier = resolve(value);
        if (!identifier || !allowedIdentifiers.has(identifier))
          return invalid(`delegation: ${end} ${value} is not one of the client's allowed resources`);
      }
    }
  }
  return undefined;
}

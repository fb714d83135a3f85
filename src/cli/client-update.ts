/**
 * From `clients update` options to a JSON merge patch (RFC 7396) over the
 * client's metadata: only what the operator named changes; `--no-…` removes.
 * The server side (clients/client-changes.ts) validates it like a registration.
 */
import { CliError } from './errors.js';

export interface ClientUpdateOptions {
  name?: string;
  grantType?: string[];
  redirectUri?: string[];
  postLogoutRedirectUri?: string[];
  scope?: string;
  resource?: string[];
  defaultResource?: string | false;
  authMethod?: string;
  onBehalf?: string | false;
  onBehalfResource?: string;
  onBehalfScope?: string;
  onBehalfTtl?: number;
  delegation?: string[] | false;
  mayAct?: string | false;
  operates?: string[];
  firstParty?: boolean;
}

/** `<from>=<to>[ <scope>...]`: resource indicators and aliases hold no spaces, so the scope follows a space. */
export function delegationRule(value: string): { from: string; to: string; scope?: string } {
  const at = value.indexOf('=');
  const from = value.slice(0, at).trim();
  const [to, ...scope] = value
    .slice(at + 1)
    .trim()
    .split(/\s+/);
  if (at < 1 || !from || !to) throw new CliError(`--delegation ${value}: expected <from>=<to> or "<from>=<to> <scope>..."`);
  return { from, to, ...(scope.length ? { scope: scope.join(' ') } : {}) };
}

function onBehalfJson(value: string): Record<string, unknown> {
  try {
    const parsed = JSON.parse(value) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new CliError('--on-behalf must be a JSON object such as {"resource":"https://orders.example.com","scope":"orders:read"}');
}

export function clientPatch(options: ClientUpdateOptions): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  if (options.name !== undefined) patch.client_name = options.name;
  if (options.grantType) {
    patch.grant_types = options.grantType;
    // oidc-provider insists response_types match the grants: code flow ⇔ "code".
    patch.response_types = options.grantType.includes('authorization_code') ? ['code'] : [];
  }
  if (options.redirectUri) patch.redirect_uris = options.redirectUri;
  if (options.postLogoutRedirectUri) patch.post_logout_redirect_uris = options.postLogoutRedirectUri;
  if (options.scope !== undefined) patch.scope = options.scope.trim().split(/\s+/).filter(Boolean).join(' ') || null;
  if (options.resource) patch.allowed_resources = options.resource;
  if (options.defaultResource !== undefined) patch.default_resource = options.defaultResource || null;
  if (options.authMethod !== undefined) patch.token_endpoint_auth_method = options.authMethod;
  if (options.operates) patch.resource_servers = options.operates;
  if (options.firstParty !== undefined) patch.first_party = options.firstParty;
  if (options.mayAct !== undefined) patch.may_act = options.mayAct || null;
  if (options.delegation !== undefined) patch.delegation = options.delegation ? options.delegation.map(delegationRule) : null;
  const onBehalfParts = {
    ...(options.onBehalfResource !== undefined ? { resource: options.onBehalfResource } : {}),
    ...(options.onBehalfScope !== undefined ? { scope: options.onBehalfScope } : {}),
    ...(options.onBehalfTtl !== undefined ? { token_ttl: options.onBehalfTtl } : {}),
  };
  if (options.onBehalf === false) {
    if (Object.keys(onBehalfParts).length) throw new CliError('--no-on-behalf cannot be combined with --on-behalf-… options');
    patch.on_behalf = null;
  } else if (options.onBehalf !== undefined || Object.keys(onBehalfParts).length) {
    // Parts merge into the stored policy (RFC 7396 merges objects); --on-behalf <json> replaces what it names.
    patch.on_behalf = { ...(options.onBehalf ? onBehalfJson(options.onBehalf) : {}), ...onBehalfParts };
  }
  if (!Object.keys(patch).length) throw new CliError('nothing to change: name at least one option (see clients update --help)');
  return patch;
}

/**
 * Behalf's client metadata beyond the standard: validated by oidc-provider
 * (synchronously) whenever a client is loaded, and read back by the
 * interaction and token policies.
 */
import type { ClientMetadata } from 'oidc-provider';
import { errors } from 'oidc-provider';
import { CLIENT_KINDS, type ClientKind } from '../clients/client-kind.js';
import { normaliseResourceIndicator } from '../clients/resource-indicator.js';
import { MAX_ON_BEHALF_TOKEN_SECONDS } from '../../token-exchange/on-behalf-policy.js';
import type { OnBehalfClientPolicy } from '../../token-exchange/ports.js';
import type { SenderConstraintPolicy } from '../../token-exchange/sender-constraint.js';
import { PKCE_OPTIONAL, pkceOptionalProblem } from './pkce-policy.js';
import {
  booleanPropertyProblem,
  parRequiredOnBehalf,
  REQUIRE_DPOP_ON_BEHALF,
  REQUIRE_PAR_ON_BEHALF,
  senderConstraintPolicy,
} from './sender-constraint-metadata.js';

export { CLIENT_KINDS, type ClientKind } from '../clients/client-kind.js';

export const BEHALF_CLIENT_PROPERTIES = [
  'first_party',
  'client_kind',
  'store',
  'allowed_resources',
  // After allowed_resources: the default must be one of them (the validator runs in this order).
  'default_resource',
  'resource_servers',
  'on_behalf',
  'delegation',
  'may_act',
  PKCE_OPTIONAL,
  REQUIRE_DPOP_ON_BEHALF,
  REQUIRE_PAR_ON_BEHALF,
];

/**
 * Login-on-behalf policy of a storefront client as written in its metadata (`on_behalf`; absent:
 * the client may not log in on behalf). Read through `behalfClient()` as the policy's one type,
 * `OnBehalfClientPolicy`.
 */
export interface OnBehalfMetadata {
  /** Default resource server for on-behalf tokens. */
  resource?: string;
  /** The most an on-behalf token may carry, space-separated (a read-only profile: "orders:read"). */
  scope: string;
  /** On-behalf access token lifetime in seconds (at most 900). */
  token_ttl?: number;
}

/** Delegation policy: tokens whose audience is `from` may be exchanged for tokens for `to`. */
export interface DelegationMetadata {
  from: string;
  to: string;
  /** Limits the derived scope further (space-separated). */
  scope?: string;
}

function invalid(message: string): never {
  throw new errors.InvalidClientMetadata(message);
}

function checkResourceList(key: string, value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) invalid(`${key} must be an array of resource indicators`);
  try {
    return value.map((item) => normaliseResourceIndicator(item));
  } catch (error) {
    invalid(`${key}: ${(error as Error).message}`);
  }
}

/** `extraClientMetadata.validator`: runs for each property on every client load. */
export function validateBehalfClientProperty(_ctx: unknown, key: string, value: unknown, metadata: ClientMetadata): void {
  switch (key) {
    case 'first_party':
      if (value === undefined) metadata.first_party = false;
      else if (typeof value !== 'boolean') invalid('first_party must be a boolean');
      return;
    case 'client_kind':
      if (value === undefined) metadata.client_kind = 'service';
      else if (!CLIENT_KINDS.includes(value as ClientKind)) invalid(`client_kind must be one of ${CLIENT_KINDS.join(', ')}`);
      if (metadata.client_kind === 'storefront' && typeof metadata.store !== 'string') invalid('a storefront client must name its store');
      return;
    case 'store':
      if (value !== undefined && (typeof value !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(value))) invalid('store must be a store slug');
      return;
    case 'allowed_resources':
      metadata.allowed_resources = checkResourceList(key, value) ?? [];
      return;
    case 'default_resource': {
      if (value === undefined) return;
      if (typeof value !== 'string') invalid('default_resource must be a resource indicator (an absolute URI)');
      const [resource] = checkResourceList(key, [value])!;
      if (!((metadata.allowed_resources as string[] | undefined) ?? []).includes(resource!))
        invalid(`default_resource ${resource} must also be in allowed_resources`);
      metadata.default_resource = resource;
      return;
    }
    case 'resource_servers':
      metadata.resource_servers = checkResourceList(key, value) ?? [];
      return;
    case 'on_behalf':
      if (value === undefined) return;
      checkOnBehalf(value);
      return;
    case 'delegation':
      if (value === undefined) return;
      if (!Array.isArray(value) || !value.every(isDelegationRule))
        invalid('delegation must be a list of { from, to, scope? } with resource indicators or audience names');
      return;
    case 'may_act':
      if (value !== undefined && (typeof value !== 'string' || !value))
        invalid('may_act must be the client id allowed to act on this client’s tokens');
      return;
    case PKCE_OPTIONAL: {
      const problem = pkceOptionalProblem(value, metadata.token_endpoint_auth_method);
      if (problem) invalid(problem);
      return;
    }
    case REQUIRE_DPOP_ON_BEHALF:
    case REQUIRE_PAR_ON_BEHALF: {
      const problem = booleanPropertyProblem(key, value);
      if (problem) invalid(problem);
      return;
    }
  }
}

function checkOnBehalf(value: unknown): void {
  if (!value || typeof value !== 'object' || Array.isArray(value)) invalid('on_behalf must be an object { resource, scope, token_ttl }');
  const policy = value as Record<string, unknown>;
  if (typeof policy.scope !== 'string' || !policy.scope.trim()) invalid('on_behalf.scope must list the scopes on-behalf tokens may carry');
  if (policy.resource !== undefined) checkResourceList('on_behalf.resource', [policy.resource]);
  if (
    policy.token_ttl !== undefined &&
    (!Number.isInteger(policy.token_ttl) || (policy.token_ttl as number) < 30 || (policy.token_ttl as number) > 900)
  ) {
    invalid('on_behalf.token_ttl must be whole seconds from 30 to 900');
  }
}

function isDelegationRule(rule: unknown): rule is DelegationMetadata {
  if (!rule || typeof rule !== 'object') return false;
  const { from, to, scope } = rule as Record<string, unknown>;
  return typeof from === 'string' && !!from && typeof to === 'string' && !!to && (scope === undefined || typeof scope === 'string');
}

export interface BehalfClientView {
  clientId: string;
  kind: ClientKind;
  store?: string;
  firstParty: boolean;
  allowedResources: string[];
  /** The resource used when a client_credentials or delegation request names none (one of allowedResources). */
  defaultResource?: string;
  resourceServers: string[];
  /** The client's login-on-behalf policy (`enabled` false: it may not log in on behalf). */
  onBehalf: OnBehalfClientPolicy;
  delegation: DelegationMetadata[];
  mayAct?: string;
  /** When the client must prove a DPoP key at the token exchange (RFC 9449). */
  senderConstraint: SenderConstraintPolicy;
  /** Its login-on-behalf authorization requests must be pushed (RFC 9126). */
  requireParOnBehalf: boolean;
}

/** Behalf's view of a loaded oidc-provider client. */
export function behalfClient(client: { clientId: string; metadata(): ClientMetadata }): BehalfClientView {
  const metadata = client.metadata();
  return {
    clientId: client.clientId,
    kind: (metadata.client_kind as ClientKind | undefined) ?? 'service',
    store: metadata.store as string | undefined,
    firstParty: metadata.first_party === true,
    allowedResources: (metadata.allowed_resources as string[] | undefined) ?? [],
    ...(typeof metadata.default_resource === 'string' ? { defaultResource: metadata.default_resource } : {}),
    resourceServers: (metadata.resource_servers as string[] | undefined) ?? [],
    onBehalf: onBehalfPolicy(metadata.client_kind as ClientKind | undefined, metadata.on_behalf as OnBehalfMetadata | undefined),
    delegation: (metadata.delegation as DelegationMetadata[] | undefined) ?? [],
    mayAct: metadata.may_act as string | undefined,
    senderConstraint: senderConstraintPolicy(metadata),
    requireParOnBehalf: parRequiredOnBehalf(metadata),
  };
}

/** The `on_behalf` metadata as the token-exchange policy reads it; only storefront clients may have one. */
function onBehalfPolicy(kind: ClientKind | undefined, metadata: OnBehalfMetadata | undefined): OnBehalfClientPolicy {
  return {
    enabled: !!metadata && kind === 'storefront',
    ...(metadata?.resource ? { resource: metadata.resource } : {}),
    scope: metadata?.scope.split(' ').filter(Boolean) ?? [],
    tokenTtlSeconds: metadata?.token_ttl ?? MAX_ON_BEHALF_TOKEN_SECONDS,
  };
}

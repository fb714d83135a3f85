/**
 * The console's client form and the API's client metadata, both ways. Pure:
 * lists are one per line, delegation rules "from -> to [scopes]", and an
 * empty field means "not set" (null in a merge patch, RFC 7396).
 */

export const GRANT_CHOICES = [
  ['authorization_code', 'Authorization code (people sign in)'],
  ['refresh_token', 'Refresh token'],
  ['client_credentials', 'Client credentials (machine to machine)'],
  ['urn:ietf:params:oauth:grant-type:token-exchange', 'Token exchange (login on behalf, delegation)'],
] as const;

export const KIND_CHOICES = [
  ['service', 'Service (machine to machine, integrators)'],
  ['storefront', 'Storefront (a store’s customers sign in)'],
  ['backoffice', 'Back office (staff sign in)'],
] as const;

export interface ClientFormValues {
  client_id: string;
  client_name: string;
  client_kind: string;
  store: string;
  first_party: boolean;
  redirect_uris: string;
  post_logout_redirect_uris: string;
  grant_types: string[];
  scope: string;
  allowed_resources: string;
  default_resource: string;
  resource_servers: string;
  on_behalf_resource: string;
  on_behalf_scope: string;
  on_behalf_ttl: string;
  delegation: string;
  may_act: string;
}

export class ClientFormError extends Error {
  override name = 'ClientFormError';
  constructor(
    readonly field: keyof ClientFormValues,
    message: string,
  ) {
    super(message);
  }
}

function lines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean);
}

interface DelegationRule {
  from: string;
  to: string;
  scope?: string;
}

export function parseDelegation(text: string): DelegationRule[] {
  return lines(text).map((line) => {
    const match = /^(\S+)\s*->\s*(\S+)(?:\s+(.+))?$/.exec(line);
    if (!match) throw new ClientFormError('delegation', `delegation rule “${line}” must read: from-resource -> to-resource [scopes]`);
    return { from: match[1]!, to: match[2]!, ...(match[3] ? { scope: match[3].trim() } : {}) };
  });
}

export function formatDelegation(rules: unknown): string {
  if (!Array.isArray(rules)) return '';
  return (rules as DelegationRule[]).map((rule) => `${rule.from} -> ${rule.to}${rule.scope ? ` ${rule.scope}` : ''}`).join('\n');
}

const text = (value: unknown): string => (typeof value === 'string' ? value : '');
const list = (value: unknown): string => (Array.isArray(value) ? value.join('\n') : '');

/** The form, filled from a client as the API shows it. */
export function formValues(client: Record<string, unknown>): ClientFormValues {
  const onBehalf = (client.on_behalf ?? {}) as { resource?: string; scope?: string; token_ttl?: number };
  return {
    client_id: text(client.client_id),
    client_name: text(client.client_name),
    client_kind: text(client.client_kind) || 'service',
    store: text(client.store),
    first_party: client.first_party === true,
    redirect_uris: list(client.redirect_uris),
    post_logout_redirect_uris: list(client.post_logout_redirect_uris),
    grant_types: Array.isArray(client.grant_types) ? (client.grant_types as string[]) : [],
    scope: text(client.scope),
    allowed_resources: list(client.allowed_resources),
    default_resource: text(client.default_resource),
    resource_servers: list(client.resource_servers),
    on_behalf_resource: text(onBehalf.resource),
    on_behalf_scope: text(onBehalf.scope),
    on_behalf_ttl: onBehalf.token_ttl ? String(onBehalf.token_ttl) : '',
    delegation: formatDelegation(client.delegation),
    may_act: text(client.may_act),
  };
}

/** The form as sent by the browser (every field as text; grant types as checkboxes). */
export function readForm(body: Record<string, unknown>): ClientFormValues {
  const field = (name: string) => {
    const value = body[name];
    const first = Array.isArray(value) ? value[0] : value;
    return typeof first === 'string' ? first.trim() : '';
  };
  const grants = body.grant_types;
  return {
    client_id: field('client_id'),
    client_name: field('client_name'),
    client_kind: field('client_kind'),
    store: field('store'),
    first_party: field('first_party') === 'on',
    redirect_uris: field('redirect_uris'),
    post_logout_redirect_uris: field('post_logout_redirect_uris'),
    grant_types: (Array.isArray(grants) ? grants : typeof grants === 'string' ? [grants] : []).filter(
      (grant): grant is string => typeof grant === 'string',
    ),
    scope: field('scope'),
    allowed_resources: field('allowed_resources'),
    default_resource: field('default_resource'),
    resource_servers: field('resource_servers'),
    on_behalf_resource: field('on_behalf_resource'),
    on_behalf_scope: field('on_behalf_scope'),
    on_behalf_ttl: field('on_behalf_ttl'),
    delegation: field('delegation'),
    may_act: field('may_act'),
  };
}

/**
 * Client metadata from the form: for creation, fields left empty are left out; for a merge patch
 * (`patch`), they are null (removed). Grant types decide response types (code for the code flow).
 */
export function metadataFrom(values: ClientFormValues, patch: boolean): Record<string, unknown> {
  const unset = patch ? null : undefined;
  const optional = (value: unknown, empty: boolean) => (empty ? unset : value);
  let onBehalf: unknown = unset;
  if (values.on_behalf_scope) {
    const ttl = values.on_behalf_ttl ? Number(values.on_behalf_ttl) : undefined;
    if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 1))
      throw new ClientFormError('on_behalf_ttl', 'on-behalf token lifetime must be a whole number of seconds');
    onBehalf = {
      scope: values.on_behalf_scope,
      ...(values.on_behalf_resource ? { resource: values.on_behalf_resource } : {}),
      ...(ttl ? { token_ttl: ttl } : {}),
    };
  } else if (values.on_behalf_resource || values.on_behalf_ttl) {
    throw new ClientFormError('on_behalf_scope', 'an on-behalf profile needs its scope (what an on-behalf token may carry)');
  }
  const delegation = parseDelegation(values.delegation);
  const metadata: Record<string, unknown> = {
    ...(patch ? {} : { client_id: values.client_id }),
    client_name: values.client_name,
    client_kind: values.client_kind,
    store: optional(values.store, !values.store),
    first_party: values.first_party,
    redirect_uris: lines(values.redirect_uris),
    post_logout_redirect_uris: lines(values.post_logout_redirect_uris),
    grant_types: values.grant_types,
    response_types: values.grant_types.includes('authorization_code') ? ['code'] : [],
    scope: optional(values.scope, !values.scope),
    allowed_resources: lines(values.allowed_resources),
    default_resource: optional(values.default_resource, !values.default_resource),
    resource_servers: lines(values.resource_servers),
    on_behalf: onBehalf,
    delegation: delegation.length ? delegation : unset,
    may_act: optional(values.may_act, !values.may_act),
  };
  return Object.fromEntries(Object.entries(metadata).filter(([, value]) => value !== undefined));
}

/** Which form field an API error names ("redirect_uris …", "on_behalf …"). */
export function clientErrorField(description: string | undefined): keyof ClientFormValues | undefined {
  const text = description ?? '';
  const fields: (keyof ClientFormValues)[] = [
    'client_id',
    'client_name',
    'client_kind',
    'store',
    'redirect_uris',
    'post_logout_redirect_uris',
    'grant_types',
    'scope',
    'allowed_resources',
    'default_resource',
    'resource_servers',
    'delegation',
    'may_act',
  ];
  if (/\bon[_-]behalf\b/.test(text)) return 'on_behalf_scope';
  if (text.includes('response_types')) return 'grant_types';
  // The field named first in the message ("default_resource must be one of allowed_resources").
  const named = fields
    .map((name) => ({ name, at: text.search(new RegExp(`(^|[^a-z_])${name}([^a-z_]|$)`)) }))
    .filter((found) => found.at >= 0)
    .sort((a, b) => a.at - b.at);
  return named[0]?.name;
}

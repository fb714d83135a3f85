/**
 * Audit events in words, for people reading the trail: "Sam Support started
 * acting as Oleg Petrov at Electronics — reason “Parcel lost”, ticket SUP-1".
 * Pure: the caller resolves names (accounts, stores, clients) first; an id
 * with no name is still shown, shortened, so nothing is hidden.
 */

export interface DescribableEvent {
  type: string;
  actor: string | null;
  subject: string | null;
  clientId: string | null;
  details: Record<string, unknown>;
}

/** What the caller knows about the ids an event mentions. */
export interface EventNames {
  person(id: string): string | undefined;
  store(id: string): string | undefined;
  client?(id: string): string | undefined;
}

const END_REASONS: Record<string, string> = {
  ended_by_client: 'ended from the storefront',
  ended_by_customer: 'ended by the customer',
  ended_by_admin: 'ended by an admin',
  ended_by_agent: 'ended by the agent',
  agent_logout: 'the agent signed out',
  expired: 'time ran out',
  kill_switch: 'all sessions of the agent ended by an admin',
  policy_revoked: 'the permission was revoked',
  account_disabled: 'an account was disabled',
};

const GRANT_WORDS: Record<string, string> = {
  authorization_code: 'sign-in',
  refresh_token: 'refresh',
  client_credentials: 'client credentials',
  'urn:ietf:params:oauth:grant-type:token-exchange': 'token exchange',
};

const SIGN_IN_FAILURES: Record<string, string> = {
  invalid_credentials: 'wrong email or password',
  locked: 'the account is locked',
  disabled: 'the account is disabled',
  staff_at_storefront: 'staff credentials at a store',
  throttled: 'too many attempts',
};

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() ? value : undefined;
}

function shortId(id: string): string {
  return id.length > 12 ? `${id.slice(0, 8)}…` : id;
}

export function describeParty(reference: string | null, names: EventNames): string {
  if (!reference) return 'someone unknown';
  if (reference === 'system') return 'Behalf';
  if (reference.startsWith('cli:')) return `an operator at the CLI (${reference.slice(4)})`;
  if (reference.startsWith('client:')) {
    const id = reference.slice(7);
    return `the client ${names.client?.(id) ?? id}`;
  }
  return names.person(reference) ?? `account ${shortId(reference)}`;
}

function clientName(id: string | null, names: EventNames): string | undefined {
  return id ? (names.client?.(id) ?? id) : undefined;
}

/** " — reason “…”, ticket T-1" or "" when neither was given. */
function because(details: Record<string, unknown>): string {
  const reason = text(details.reason);
  const ticket = text(details.ticket);
  const parts = [reason ? `reason “${reason}”` : undefined, ticket ? `ticket ${ticket}` : undefined].filter(Boolean);
  return parts.length ? ` — ${parts.join(', ')}` : '';
}

function storeOf(details: Record<string, unknown>, names: EventNames): string | undefined {
  const id = text(details.store_id);
  return (id && names.store(id)) ?? text(details.store);
}

const ADMIN_ACCOUNT_VERBS: Record<string, string> = {
  created: 'created the account of',
  disabled: 'disabled the account of',
  enabled: 'enabled the account of',
  unlocked: 'unlocked the account of',
  password_reset: 'reset the password of',
  totp_disabled: 'removed the second factor of',
};

export function describeEvent(event: DescribableEvent, names: EventNames): string {
  const actor = describeParty(event.actor, names);
  const subject = describeParty(event.subject, names);
  const d = event.details;
  const client = clientName(event.clientId, names);
  const via = client ? ` through ${client}` : '';
  const [domain, ...rest] = event.type.split('.');
  const action = rest.join('.');

  switch (event.type) {
    case 'on_behalf.started': {
      const store = storeOf(d, names);
      return `${actor} started acting as ${subject}${store ? ` at ${store}` : ''}${because(d)}`;
    }
    case 'on_behalf.ended': {
      const agent = describeParty(text(d.agent) ?? null, names);
      const why = END_REASONS[String(d.reason)] ?? text(d.reason);
      const who = event.actor === d.agent ? `${agent} ended their session` : `${actor} ended ${agent}’s session`;
      return `${who} as ${subject}${why ? ` (${why})` : ''}`;
    }
    case 'on_behalf.denied':
      return `${actor} was refused acting as ${event.subject ? subject : 'a customer'}${via}: ${text(d.description) ?? text(d.reason) ?? 'refused'}`;
    case 'on_behalf.scope_refused':
      return `${actor}’s re-authentication${via} asked for more than openid and got openid only`;
    case 'on_behalf.reauth_revoked':
      return `${actor} revoked ${Number(d.count) || 'the'} re-authentication(s) of ${subject}${d.reason ? ` (${END_REASONS[String(d.reason)] ?? String(d.reason)})` : ''}`;
    case 'delegation.issued':
      return `${actor} got a delegated token for ${subject}${text(d.audience) ? ` to ${String(d.audience)}` : ''}${text(d.scope) ? ` (${String(d.scope)})` : ''}`;
    case 'delegation.denied':
      return `${actor} was refused a delegated token${via}: ${text(d.description) ?? text(d.reason) ?? 'refused'}`;
    case 'auth.login.succeeded':
      return `${subject} signed in${via}${Array.isArray(d.amr) && d.amr.includes('otp') ? ' with a second factor' : ''}`;
    case 'auth.login.failed': {
      const who = event.subject ? subject : `“${text(d.username) ?? 'unknown'}”`;
      return `A sign-in as ${who} failed${via} (${SIGN_IN_FAILURES[String(d.reason)] ?? text(d.reason) ?? 'refused'})`;
    }
    case 'auth.lockout':
      return `${subject} was locked out${text(d.locked_until) ? ` until ${String(d.locked_until).replace('T', ' ').slice(0, 16)} UTC` : ''}`;
    case 'auth.logout':
      return `${subject} signed out${via}`;
    case 'consent.granted':
      return `${actor} consented to ${client ?? 'a client'}${d.implicit ? ' (first-party, no consent screen)' : ''}`;
    case 'token.issued': {
      const grant = GRANT_WORDS[String(d.grant_type)] ?? text(d.grant_type);
      const audience = text(d.audience) ? ` for ${String(d.audience)}` : '';
      return `${client ?? 'A client'} got a token${event.subject ? ` of ${subject}` : ''}${audience}${grant ? ` (${grant})` : ''}`;
    }
    case 'token.revoked':
      return `${client ?? 'A client'} revoked a token${event.subject ? ` of ${subject}` : ''}`;
    case 'admin.permission.granted':
    case 'admin.permission.revoked': {
      const store = storeOf(d, names) ?? 'all stores';
      const what = d.permission === 'security:loginOnBehalf' ? 'log in on behalf of customers' : `use ${String(d.permission)}`;
      return event.type.endsWith('granted')
        ? `${actor} allowed ${subject} to ${what} at ${store}${because(d)}`
        : `${actor} revoked ${subject}’s permission to ${what} at ${store}${because(d)}`;
    }
    case 'admin.account.totp_enrolled':
      return `${actor} ${d.reset ? 'reset' : 'set up'} the second factor of ${subject}`;
    case 'admin.role.granted':
      return `${actor} gave ${subject} the ${String(d.role)} role`;
    case 'admin.role.revoked':
      return `${actor} took the ${String(d.role)} role from ${subject}`;
    case 'admin.audit.exported':
      return `${actor} exported the audit trail`;
  }
  if (domain === 'admin' && action.startsWith('account.') && ADMIN_ACCOUNT_VERBS[action.slice(8)]) {
    const roles = Array.isArray(d.roles) ? ` (${d.roles.join(', ')})` : '';
    return `${actor} ${ADMIN_ACCOUNT_VERBS[action.slice(8)]} ${subject}${action === 'account.created' ? roles : ''}${because(d)}`;
  }
  if (domain === 'admin' && (action.startsWith('client.') || action.startsWith('resource_server.'))) {
    const [thing, change] = action.split('.') as [string, string];
    const verb = change === 'secret_rotated' ? 'rotated the secret of' : change.replace(/_/g, ' ');
    if (thing === 'resource_server') return `${actor} ${verb} the resource server ${text(d.identifier) ?? event.subject ?? ''}`.trim();
    // Client changes name the client in the event's client id (the admin API) or its details (older CLI records).
    const id = text(d.client_id) ?? event.clientId ?? event.subject ?? '';
    const name = names.client?.(id);
    const label = name && name !== id ? `${name} (${id})` : id;
    const kind = text(d.kind) ? `${String(d.kind)} ` : '';
    const fields = Array.isArray(d.fields) && d.fields.length ? `: ${d.fields.join(', ')}` : '';
    const rules = Array.isArray(d.delegation) && d.delegation.length ? `, with ${d.delegation.length} delegation rule(s)` : '';
    return `${actor} ${verb} the ${change === 'created' ? kind : ''}client ${label}${fields}${rules}`;
  }
  if (domain === 'admin' && action.startsWith('key.')) return `${actor} ${action.slice(4)} the signing key ${text(d.kid) ?? ''}`.trim();
  if (domain === 'resource' && rest.length === 2) {
    const [entity, change] = rest as [string, string];
    const onBehalf = event.actor && event.subject && event.actor !== event.subject ? ` for ${subject}` : '';
    return `${actor} ${change} ${entity.replace(/_/g, ' ')}${onBehalf}${via}`;
  }
  return `${event.type} by ${actor}${event.subject && event.subject !== event.actor ? ` for ${subject}` : ''}${via}`;
}

/**
 * Authentication for Behalf's own APIs: a Bearer access token that Behalf
 * issued to a back-office client, belonging to an active staff account that
 * holds the required role (and, for scoped APIs, whose token carries the
 * required scope). Errors follow RFC 6750 §3.
 */
import type { Context, Next } from 'koa';
import type { AccountService, AccountView } from '../../accounts/account-service.js';
import type { RoleName } from '../../accounts/entities/index.js';
import type { OidcPort } from '../oidc/port.js';

export interface ApiPrincipal {
  account: AccountView;
  clientId: string;
}

declare module 'koa' {
  interface DefaultState {
    staff?: ApiPrincipal;
    customer?: ApiPrincipal;
  }
}

function challenge(
  ctx: Context,
  status: 401 | 403,
  error: 'invalid_token' | 'insufficient_scope' | 'invalid_request',
  description: string,
  scope?: string,
): void {
  ctx.status = status;
  // Header values must be visible ASCII (RFC 6750 §3: error_description is %x20-21 / %x23-5B / %x5D-7E).
  const safe = description.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '');
  // RFC 6750 §3: `scope` tells the client which scope would have been enough.
  ctx.set('WWW-Authenticate', `Bearer realm="behalf", error="${error}", error_description="${safe}"${scope ? `, scope="${scope}"` : ''}`);
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { error, error_description: description };
}

interface BearerResult {
  account: AccountView;
  clientId: string;
  kind: string;
  onBehalf: boolean;
  scopes: Set<string>;
}

/** The account and client behind a Behalf opaque access token, or an RFC 6750 challenge already written. */
async function bearerAccount(ctx: Context, oidc: OidcPort, accounts: AccountService): Promise<BearerResult | undefined> {
  const header = ctx.get('authorization');
  const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(header);
  if (!match) return void challenge(ctx, 401, header ? 'invalid_request' : 'invalid_token', 'a Bearer access token is required');
  const value = match[1]!;
  const token = await oidc.findToken(value);
  if (!token || !token.accountId) return void challenge(ctx, 401, 'invalid_token', 'the access token is invalid, expired or revoked');
  const client = await oidc.findClient(token.clientId);
  const account = await accounts.findById(token.accountId);
  if (!client || !account || account.status !== 'active')
    return void challenge(ctx, 401, 'invalid_token', 'the account behind this token is not active');
  return { account, clientId: client.clientId, kind: client.kind, onBehalf: !!token.extra.act, scopes: new Set(token.scope) };
}

/** Every role that makes an account back-office staff. */
const STAFF_ROLES: readonly RoleName[] = ['support', 'admin'];

interface StaffRequirement {
  /** Any one of these roles will do. */
  roles: readonly RoleName[];
  /** A scope the token itself must carry (consented to by the staff member, allowed for the client). */
  scope?: string;
}

function requireStaff(oidc: OidcPort, accounts: AccountService, requirement: StaffRequirement) {
  const roleText =
    requirement.roles.length === 1
      ? `the ${requirement.roles[0]} role is required`
      : `one of the roles ${requirement.roles.join(', ')} is required`;
  return async function staffBearerToken(ctx: Context, next: Next): Promise<void> {
    const found = await bearerAccount(ctx, oidc, accounts);
    if (!found) return;
    if (found.kind !== 'backoffice')
      return challenge(ctx, 403, 'insufficient_scope', 'this API takes tokens issued to back-office clients only');
    if (found.account.storeId !== null) return challenge(ctx, 401, 'invalid_token', 'the account behind this token is not staff');
    if (!requirement.roles.some((role) => found.account.roles.includes(role))) return challenge(ctx, 403, 'insufficient_scope', roleText);
    if (requirement.scope && !found.scopes.has(requirement.scope)) {
      return challenge(ctx, 403, 'insufficient_scope', `the access token must carry the scope ${requirement.scope}`, requirement.scope);
    }
    ctx.state.staff = { account: found.account, clientId: found.clientId };
    await next();
  };
}

/** Staff holding `role` (the admin APIs). */
export function requireStaffToken(oidc: OidcPort, accounts: AccountService, role: RoleName) {
  return requireStaff(oidc, accounts, { roles: [role] });
}

/** Any active staff member (support or admin), whatever their token's scope (the agent's own on-behalf sessions). */
export function requireAnyStaffToken(oidc: OidcPort, accounts: AccountService) {
  return requireStaff(oidc, accounts, { roles: STAFF_ROLES });
}

/** Any staff member (support or admin) whose token carries `scope` (the directory API). */
export function requireStaffScope(oidc: OidcPort, accounts: AccountService, scope: string) {
  return requireStaff(oidc, accounts, { roles: STAFF_ROLES, scope });
}

/** A customer's own token (from their store's client), never one used on their behalf. */
export function requireCustomerToken(oidc: OidcPort, accounts: AccountService) {
  return async function customerBearerToken(ctx: Context, next: Next): Promise<void> {
    const found = await bearerAccount(ctx, oidc, accounts);
    if (!found) return;
    if (found.kind !== 'storefront' || !found.account.roles.includes('customer'))
      return challenge(ctx, 403, 'insufficient_scope', "this API takes a customer's own tokens from their store");
    if (found.onBehalf) return challenge(ctx, 403, 'insufficient_scope', 'not allowed while acting on behalf of a customer');
    ctx.state.customer = { account: found.account, clientId: found.clientId };
    await next();
  };
}

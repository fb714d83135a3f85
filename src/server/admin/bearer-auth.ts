/**
 * Authentication for Behalf's own APIs: a Bearer access token that Behalf
 * issued to a back-office client, belonging to an active staff account that
 * holds the required role. Errors follow RFC 6750 §3.
 */
import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';
import type { AccountService, AccountView } from '../../accounts/account-service.js';
import type { RoleName } from '../../accounts/entities/index.js';
import { behalfClient } from '../oidc/client-metadata.js';

export interface ApiPrincipal {
  account: AccountView;
  clientId: string;
}

declare module 'koa' {
  interface DefaultState {
    staff?: ApiPrincipal;
  }
}

function challenge(ctx: Context, status: 401 | 403, error: 'invalid_token' | 'insufficient_scope' | 'invalid_request', description: string): void {
  ctx.status = status;
  ctx.set('WWW-Authenticate', `Bearer realm="behalf", error="${error}", error_description="${description}"`);
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { error, error_description: description };
}

export function requireStaffToken(provider: () => Provider, accounts: AccountService, role: RoleName) {
  return async function staffBearerToken(ctx: Context, next: Next): Promise<void> {
    const header = ctx.get('authorization');
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(header);
    if (!match) return challenge(ctx, 401, header ? 'invalid_request' : 'invalid_token', 'a Bearer access token is required');
    const value = match[1]!;
    const token = value.length <= 512 ? await provider().AccessToken.find(value) : undefined;
    if (!token || !token.accountId) return challenge(ctx, 401, 'invalid_token', 'the access token is invalid, expired or revoked');
    const client = token.clientId ? await provider().Client.find(token.clientId) : undefined;
    if (!client || behalfClient(client).kind !== 'backoffice') return challenge(ctx, 403, 'insufficient_scope', 'this API takes tokens issued to back-office clients only');
    const account = await accounts.findById(token.accountId);
    if (!account || account.status !== 'active' || account.storeId !== null) return challenge(ctx, 401, 'invalid_token', 'the account behind this token is not active staff');
    if (!account.roles.includes(role)) return challenge(ctx, 403, 'insufficient_scope', `the ${role} role is required`);
    ctx.state.staff = { account, clientId: client.clientId };
    await next();
  };
}

/**
 * Admin API: POST /admin/initial-access-tokens issues an RFC 7591 initial
 * access token for an integrator (shown once), bounded to resources and a
 * lifetime; audited as `admin.initial_access_token.created` (never the token).
 */
import Router from '@koa/router';
import type { DataSource } from 'typeorm';
import type { AccountService } from '../../accounts/account-service.js';
import type { AuditService } from '../audit-trail/audit-service.js';
import type { ResourceServerRegistry } from '../clients/resource-servers.js';
import {
  allowedResources,
  InitialAccessTokenError,
  issueInitialAccessToken,
  MAX_INITIAL_ACCESS_TOKEN_SECONDS,
} from '../oidc/initial-access-token.js';
import type { OidcPort } from '../oidc/port.js';
import { requireStaffToken } from './bearer-auth.js';
import { adminActor, answer, jsonBody, noStore } from './json-body.js';

const DEFAULT_TTL_SECONDS = 7 * 86_400;

export function initialAccessTokenRoutes(deps: {
  dataSource: DataSource;
  resourceServers: ResourceServerRegistry;
  audit: AuditService;
  oidc: OidcPort;
  accounts: AccountService;
  maxBodyBytes: number;
}): Router {
  const router = new Router({ prefix: '/admin/initial-access-tokens' });
  router.use(noStore);
  router.use(requireStaffToken(deps.oidc, deps.accounts, 'admin'));

  router.post('/', jsonBody(deps.maxBodyBytes), async (ctx) => {
    const { resources, ttl_seconds: ttl = DEFAULT_TTL_SECONDS, ...rest } = ctx.request.body as Record<string, unknown>;
    const unknown = Object.keys(rest)[0];
    if (unknown) return answer(ctx, 400, 'invalid_request', `unknown field ${unknown}`);
    if (!Number.isInteger(ttl) || (ttl as number) < 60 || (ttl as number) > MAX_INITIAL_ACCESS_TOKEN_SECONDS)
      return answer(ctx, 400, 'invalid_request', `ttl_seconds must be whole seconds from 60 to ${MAX_INITIAL_ACCESS_TOKEN_SECONDS}`);
    let allowed: string[];
    try {
      allowed = await allowedResources(deps.resourceServers, resources);
    } catch (error) {
      if (error instanceof InitialAccessTokenError) return answer(ctx, 400, 'invalid_request', error.message);
      throw error;
    }
    const by = adminActor(ctx);
    const issued = await issueInitialAccessToken(deps.dataSource, { resources: allowed, ttlSeconds: ttl as number, createdBy: by.actor! });
    await deps.audit.record({
      type: 'admin.initial_access_token.created',
      actor: by.actor,
      ip: by.ip ?? null,
      userAgent: by.userAgent ?? null,
      details: { ...by.details, allowed_resources: allowed, expires_at: issued.expiresAt.toISOString() },
    });
    ctx.status = 201;
    ctx.body = { initial_access_token: issued.token, expires_at: issued.expiresAt.toISOString(), allowed_resources: allowed };
  });

  return router;
}

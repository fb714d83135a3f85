/**
 * Admin API over resource servers (admin role): list, read, create, change
 * (name, format, scopes, lifetime, aliases), delete. `:id` is the URL-encoded
 * identifier. Every change is audited as `admin.resource_server.*`.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { AccountService } from '../../accounts/account-service.js';
import {
  createResourceServer,
  deleteResourceServer,
  ResourceServerChangeError,
  resourceServerJson,
  updateResourceServer,
  type ResourceServerChangeServices,
} from '../clients/resource-server-changes.js';
import type { OidcPort } from '../oidc/port.js';
import { requireStaffToken } from './bearer-auth.js';
import { adminActor, answer, jsonBody, noStore, STATUS_OF } from './json-body.js';

async function changing(ctx: Context, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    if (!(error instanceof ResourceServerChangeError)) throw error;
    answer(ctx, STATUS_OF[error.code], error.code, error.message);
  }
}

export function resourceServerAdminRoutes(
  deps: ResourceServerChangeServices & { oidc: OidcPort; accounts: AccountService; maxBodyBytes: number },
): Router {
  const router = new Router({ prefix: '/admin/resource-servers' });
  router.use(noStore);
  router.use(requireStaffToken(deps.oidc, deps.accounts, 'admin'));
  const body = jsonBody(deps.maxBodyBytes);

  router.get('/', async (ctx) => {
    await deps.resourceServers.refresh();
    const servers = deps.resourceServers.all().sort((a, b) => a.identifier.localeCompare(b.identifier));
    ctx.body = { resource_servers: servers.map(resourceServerJson) };
  });

  router.get('/:id', async (ctx) => {
    await deps.resourceServers.refresh();
    const server = deps.resourceServers.get(ctx.params.id!);
    if (!server) return answer(ctx, 404, 'not_found', `no resource server ${ctx.params.id}`);
    ctx.body = resourceServerJson(server);
  });

  router.post('/', body, (ctx) =>
    changing(ctx, async () => {
      const server = await createResourceServer(deps, ctx.request.body as Record<string, unknown>, adminActor(ctx));
      ctx.status = 201;
      ctx.body = resourceServerJson(server);
    }),
  );

  router.patch('/:id', body, (ctx) =>
    changing(ctx, async () => {
      ctx.body = resourceServerJson(
        await updateResourceServer(deps, ctx.params.id!, ctx.request.body as Record<string, unknown>, adminActor(ctx)),
      );
    }),
  );

  router.delete('/:id', (ctx) =>
    changing(ctx, async () => {
      const force = ctx.query.force;
      if (force !== undefined && force !== 'true' && force !== 'false')
        return answer(ctx, 400, 'invalid_request', 'force must be true or false');
      await deleteResourceServer(deps, ctx.params.id!, force === 'true', adminActor(ctx));
      ctx.status = 204;
    }),
  );

  return router;
}

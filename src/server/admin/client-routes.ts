/**
 * Admin API over clients (admin role, a back-office client's Bearer token):
 * list, read, create, merge-patch, delete, rotate the secret. Validation is
 * registration's; every change is audited as `admin.client.*` with the admin
 * as actor. A secret appears only in the answer that generated it.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { AccountService } from '../../accounts/account-service.js';
import {
  ClientChangeError,
  createClient,
  deleteClient,
  rotateClientSecret,
  updateClient,
  type ClientChangeServices,
} from '../clients/client-changes.js';
import { clientJson, findClientRecord, listClientRecords } from '../clients/client-records.js';
import type { OidcPort } from '../oidc/port.js';
import { requireStaffToken } from './bearer-auth.js';
import { adminActor, answer, jsonBody, noStore, STATUS_OF } from './json-body.js';

const DEFAULT_GRACE_SECONDS = 86_400;

async function changing(ctx: Context, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    if (!(error instanceof ClientChangeError)) throw error;
    answer(ctx, STATUS_OF[error.code], error.code, error.message);
  }
}

export function clientAdminRoutes(deps: ClientChangeServices & { oidc: OidcPort; accounts: AccountService; maxBodyBytes: number }): Router {
  const router = new Router({ prefix: '/admin/clients' });
  router.use(noStore);
  router.use(requireStaffToken(deps.oidc, deps.accounts, 'admin'));
  const body = jsonBody(deps.maxBodyBytes);

  router.get('/', async (ctx) => {
    ctx.body = { clients: (await listClientRecords(deps.clients, deps.configClients)).map(clientJson) };
  });

  router.get('/:clientId', async (ctx) => {
    const record = await findClientRecord(deps.clients, deps.configClients, ctx.params.clientId!);
    if (!record) return answer(ctx, 404, 'not_found', `no client ${ctx.params.clientId}`);
    ctx.body = clientJson(record);
  });

  router.post('/', body, (ctx) =>
    changing(ctx, async () => {
      const { record, secret } = await createClient(deps, ctx.request.body as Record<string, unknown>, adminActor(ctx));
      ctx.status = 201;
      ctx.body = { ...clientJson(record), ...(secret ? { client_secret: secret } : {}) };
    }),
  );

  router.patch('/:clientId', body, (ctx) =>
    changing(ctx, async () => {
      const { record, secret } = await updateClient(
        deps,
        ctx.params.clientId!,
        ctx.request.body as Record<string, unknown>,
        adminActor(ctx),
      );
      ctx.body = { ...clientJson(record), ...(secret ? { client_secret: secret } : {}) };
    }),
  );

  router.delete('/:clientId', (ctx) =>
    changing(ctx, async () => {
      await deleteClient(deps, ctx.params.clientId!, adminActor(ctx));
      ctx.status = 204;
    }),
  );

  router.post('/:clientId/secret', body, (ctx) =>
    changing(ctx, async () => {
      const { grace_seconds: grace = DEFAULT_GRACE_SECONDS, ...rest } = ctx.request.body as Record<string, unknown>;
      const unknown = Object.keys(rest)[0];
      if (unknown) return answer(ctx, 400, 'invalid_request', `unknown field ${unknown}`);
      const rotated = await rotateClientSecret(deps, ctx.params.clientId!, grace as number, adminActor(ctx));
      ctx.body = {
        client_id: ctx.params.clientId,
        client_secret: rotated.secret,
        previous_secret_expires_at: rotated.previousSecretExpiresAt?.toISOString() ?? null,
      };
    }),
  );

  return router;
}

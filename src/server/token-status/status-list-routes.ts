/**
 * GET /status-lists/:id — the Status List Token at the URI every JWT access
 * token names in `status.status_list.uri` (draft-ietf-oauth-status-list-21
 * §8.1, §8.2): `application/statuslist+jwt`, public (CORS allowed, as §8.1
 * recommends; it reveals only which indexes are revoked), cacheable for a second.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { StatusListTokens } from './status-list-token.js';

export const STATUS_LIST_MEDIA_TYPE = 'application/statuslist+jwt';

function refuse(ctx: Context, status: number, error: string, description: string): void {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { error, error_description: description };
}

export function statusListRoutes(lists: StatusListTokens): Router {
  const router = new Router();
  router.get('/status-lists/:id', async (ctx) => {
    ctx.set('Access-Control-Allow-Origin', '*');
    const id = ctx.params.id!;
    if (!/^(0|[1-9][0-9]{0,8})$/.test(id)) return refuse(ctx, 404, 'not_found', 'no such status list');
    // §8.1 content negotiation: this list exists as a JWT only.
    if (!ctx.accepts(STATUS_LIST_MEDIA_TYPE))
      return refuse(ctx, 406, 'not_acceptable', `the status list is served as ${STATUS_LIST_MEDIA_TYPE} only`);
    const list = await lists.render(Number(id));
    if (!list) return refuse(ctx, 404, 'not_found', 'no such status list');
    ctx.set('Cache-Control', 'public, max-age=1');
    ctx.set('ETag', list.etag);
    ctx.set('Vary', 'Accept');
    if (ctx.fresh) {
      ctx.status = 304;
      return;
    }
    ctx.type = STATUS_LIST_MEDIA_TYPE;
    ctx.body = list.jwt;
  });
  return router;
}

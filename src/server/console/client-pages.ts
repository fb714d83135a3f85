/** Console pages for clients and resource servers, over the admin API's /admin/clients and /admin/resource-servers. */
import type Router from '@koa/router';
import type { ConsoleKit } from './console-kit.js';

export function clientPages(router: Router, kit: ConsoleKit): void {
  router.get('/clients', async (ctx) => {
    const answer = await kit.api(ctx).get<{ clients: Record<string, unknown>[] }>('/admin/clients');
    kit.render(ctx, 'clients', {
      title: 'Clients',
      section: 'clients',
      available: answer.status === 200,
      clients: answer.body.clients ?? [],
    });
  });
}

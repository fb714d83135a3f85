/** GET /products — the catalogue of the caller's store. */
import Router from '@koa/router';
import { Product } from '../entities.js';
import { principalOf, storeOf } from '../store.js';
import { productView } from '../views.js';
import type { RouteDeps } from './deps.js';

export function productRoutes({ dataSource, auth }: RouteDeps): Router {
  const router = new Router();
  router.get('/products', auth('orders:read'), async (ctx) => {
    const store = storeOf(ctx, principalOf(ctx));
    const products = await dataSource.getRepository(Product).find({ where: { store }, order: { name: 'ASC' } });
    ctx.body = { store, products: products.map(productView) };
  });
  return router;
}

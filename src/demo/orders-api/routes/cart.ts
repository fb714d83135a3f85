/**
 * The caller's cart in the caller's store. Writes run in a transaction inside
 * the request, so the kit stamps and audits them as the current principal.
 */
import Router from '@koa/router';
import type { EntityManager } from 'typeorm';
import { CartItem, Product, type StoreSlug } from '../entities.js';
import { badRequest, notFound } from '../http.js';
import { principalOf, storeOf } from '../store.js';
import { addCartItemBody, MAX_CART_ITEMS, MAX_QUANTITY, parseBody, pathId } from '../validation.js';
import { cartItemView, cartView } from '../views.js';
import type { RouteDeps } from './deps.js';

export type CartLine = CartItem & { product: Product };

/** The owner's cart lines for one store, oldest first. `lock` takes row locks for checkout. */
export async function cartLines(manager: EntityManager, ownerId: string, store: StoreSlug, lock = false): Promise<CartLine[]> {
  const query = manager
    .getRepository(CartItem)
    .createQueryBuilder('item')
    .innerJoinAndSelect('item.product', 'product')
    .where('item.ownerId = :ownerId AND product.store = :store', { ownerId, store })
    .orderBy('item.createdAt', 'ASC')
    .addOrderBy('item.id', 'ASC');
  if (lock) query.setLock('pessimistic_write', undefined, ['item']);
  return (await query.getMany()) as CartLine[];
}

export function cartRoutes({ dataSource, auth }: RouteDeps): Router {
  const router = new Router();

  router.get('/cart', auth('orders:read'), async (ctx) => {
    const principal = principalOf(ctx);
    ctx.body = cartView(await cartLines(dataSource.manager, principal.subject, storeOf(ctx, principal)));
  });

  router.post('/cart/items', auth('orders:write'), async (ctx) => {
    const principal = principalOf(ctx);
    const store = storeOf(ctx, principal);
    const { productId, quantity } = parseBody(ctx, addCartItemBody);
    const { item, created } = await dataSource.transaction(async (manager) => {
      const product = await manager.getRepository(Product).findOneBy({ id: productId, store });
      if (!product) throw badRequest(`productId: no product ${productId} in the ${store} store`);
      const items = manager.getRepository(CartItem);
      // Serialises concurrent adds of the same product; the unique (owner, product) index backs it up.
      const existing = await items.findOne({ where: { ownerId: principal.subject, productId }, lock: { mode: 'pessimistic_write' } });
      if (existing) {
        if (existing.quantity + quantity > MAX_QUANTITY)
          throw badRequest(`quantity: the cart already holds ${existing.quantity}; at most ${MAX_QUANTITY} of one product`);
        existing.quantity += quantity;
        return { item: Object.assign(await items.save(existing), { product }), created: false };
      }
      if ((await items.countBy({ ownerId: principal.subject })) >= MAX_CART_ITEMS)
        throw badRequest(`the cart holds at most ${MAX_CART_ITEMS} different products`);
      return {
        item: Object.assign(await items.save(items.create({ ownerId: principal.subject, productId, quantity })), { product }),
        created: true,
      };
    });
    ctx.status = created ? 201 : 200;
    ctx.body = cartItemView(item);
  });

  router.delete('/cart/items/:id', auth('orders:write'), async (ctx) => {
    const principal = principalOf(ctx);
    const id = pathId(ctx, 'cart item');
    await dataSource.transaction(async (manager) => {
      const item = await manager.getRepository(CartItem).findOneBy({ id, ownerId: principal.subject });
      if (!item) throw notFound('cart item');
      await manager.getRepository(CartItem).remove(item);
    });
    ctx.status = 204;
  });

  return router;
}

/**
 * `GET /`: what this API is and how to call it, for a person who opens
 * http://localhost:4003/ in a browser (it used to answer 404). No token needed,
 * nothing about any caller.
 */
import Router from '@koa/router';

const ENDPOINTS = [
  ['GET /products', 'orders:read', 'the store’s catalogue'],
  ['GET /cart', 'orders:read', 'the caller’s cart in that store'],
  ['POST /cart/items {productId, quantity}', 'orders:write', 'add to the cart'],
  ['DELETE /cart/items/:id', 'orders:write', 'remove from the cart'],
  ['POST /orders', 'orders:write', 'place an order from the cart'],
  ['GET /orders, GET /orders/:id', 'orders:read', 'orders, with who placed them (placedBy, createdBy, onBehalfOf)'],
  ['POST /orders/:id/payments {method, amount}', 'orders:write', 'a demo payment'],
  ['GET /payment-methods', 'orders:read', 'saved cards'],
  ['PUT /payment-methods', 'orders:write', 'replace saved cards (refused on behalf)'],
  ['GET /me/activity', 'orders:read', 'what was done on the caller’s account, and by whom'],
  ['GET /healthz', 'none', 'liveness'],
] as const;

export function indexRoutes(options: { issuer: string; resource: string }): Router {
  const router = new Router();
  router.get('/', (ctx) => {
    ctx.body = {
      name: 'Orders API (Behalf demo resource server)',
      resource: options.resource,
      issuer: options.issuer,
      authentication: `Authorization: Bearer <access token for ${options.resource} from ${options.issuer}>; on-behalf tokens carry act (the agent) and obo_sid`,
      endpoints: ENDPOINTS.map(([endpoint, scope, what]) => ({ endpoint, scope, what })),
      documentation: 'src/demo/orders-api/README.md in the Behalf repository',
    };
  });
  return router;
}

/** The orders API's migrations, in order (listed explicitly so src and dist both work). */
import { ShopSchema1795540000000 } from './1795540000000-shop-schema.js';
import { OrdersAudit1795540000001 } from './1795540000001-orders-audit.js';

export const ordersMigrations = [ShopSchema1795540000000, OrdersAudit1795540000001];

/** The orders API's migrations, in order (listed explicitly so src and dist both work). */
import { ShopSchema1795540000000 } from './1795540000000-shop-schema.js';
import { OrdersAudit1795540000001 } from './1795540000001-orders-audit.js';
import { OrdersAuditTypePrefix1795540000002 } from './1795540000002-orders-audit-type-prefix.js';
import { OrdersDpopReplay1795542000000 } from './1795542000000-dpop-replay.js';
import { OrdersAuditMerkleLog1795543000001 } from './1795543000001-orders-audit-merkle-log.js';
import { OrdersAuditPagingIndexes1795545000001 } from './1795545000001-orders-audit-paging-indexes.js';

export const ordersMigrations = [
  ShopSchema1795540000000,
  OrdersAudit1795540000001,
  OrdersAuditTypePrefix1795540000002,
  OrdersDpopReplay1795542000000,
  OrdersAuditMerkleLog1795543000001,
  OrdersAuditPagingIndexes1795545000001,
];

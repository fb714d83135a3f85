/**
 * The orders API's DataSource: its own entities and migrations (tracked in
 * `orders_migrations`, so it can share a database with Behalf), and the kit's
 * subscribers, which stamp CreatedBy/ModifiedBy/OnBehalfOf and append
 * `resource.<entity>.<change>` to `orders_audit_event` in the write's transaction.
 */
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { AuditWriter } from '../../audit/index.js';
import { AttributionSubscriber, AuditTrailSubscriber } from '../../resource-server/index.js';
import { ordersEntities } from './entities.js';
import { ordersMigrations } from './migrations/index.js';

export const ORDERS_AUDIT_TABLE = 'orders_audit_event';

/** Audit event names by table; the catalogue is system data and not audited. */
export const AUDIT_NAMES = {
  names: {
    shop_order: 'order',
    shop_order_line: 'order_line',
    shop_payment: 'payment',
    shop_cart_item: 'cart_item',
    shop_payment_method: 'payment_method',
  },
  skip: ['shop_product'],
  // A cart item is gone once ordered or removed: its product and quantity stay in the trail.
  recordValues: { shop_cart_item: ['productId', 'quantity'] },
};

export function createOrdersDataSource(url: string, poolSize = 10): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    entities: ordersEntities,
    migrations: ordersMigrations,
    migrationsTableName: 'orders_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
    applicationName: 'behalf-orders-api',
    poolSize,
    extra: { connectionTimeoutMillis: 5000, idleTimeoutMillis: 30_000 },
  });
}

/**
 * Registers the kit's subscribers. They take constructor arguments, and
 * `options.subscribers` only takes classes (TypeORM instantiates them), so they
 * are added to the live list: call this AFTER `initialize()`, which rebuilds it.
 */
export function attachKitSubscribers(dataSource: DataSource): void {
  dataSource.subscribers.push(new AttributionSubscriber(), new AuditTrailSubscriber(new AuditWriter(ORDERS_AUDIT_TABLE), AUDIT_NAMES));
}

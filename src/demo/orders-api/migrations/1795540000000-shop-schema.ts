import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Columns every attributed table carries (the kit stamps the first three). */
const ATTRIBUTION = `
  created_by varchar(300) NOT NULL,
  modified_by varchar(300) NOT NULL,
  on_behalf_of varchar(300),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()`;

/**
 * The demo shop: catalogue, carts, orders, payments, payment methods. Table
 * names start with `shop_` so the orders API can share a database with Behalf
 * (its migrations live in `orders_migrations`, not Behalf's `migrations`).
 */
export class ShopSchema1795540000000 implements MigrationInterface {
  name = 'ShopSchema1795540000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE shop_product (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        store varchar(32) NOT NULL,
        sku varchar(64) NOT NULL,
        name varchar(200) NOT NULL,
        description varchar(1000) NOT NULL DEFAULT '',
        price_cents integer NOT NULL CHECK (price_cents > 0),
        currency char(3) NOT NULL,
        UNIQUE (store, sku)
      )`);
    await q.query(`
      CREATE TABLE shop_cart_item (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        owner_id varchar(300) NOT NULL,
        product_id uuid NOT NULL REFERENCES shop_product (id),
        quantity integer NOT NULL CHECK (quantity BETWEEN 1 AND 99),
        ${ATTRIBUTION},
        UNIQUE (owner_id, product_id)
      )`);
    await q.query(`
      CREATE TABLE shop_order (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        owner_id varchar(300) NOT NULL,
        store varchar(32) NOT NULL,
        status varchar(16) NOT NULL CHECK (status IN ('placed', 'paid')),
        total_cents integer NOT NULL CHECK (total_cents > 0),
        paid_cents integer NOT NULL DEFAULT 0 CHECK (paid_cents >= 0 AND paid_cents <= total_cents),
        currency char(3) NOT NULL,
        ${ATTRIBUTION}
      )`);
    await q.query(`CREATE INDEX shop_order_owner_idx ON shop_order (owner_id, created_at DESC)`);
    await q.query(`
      CREATE TABLE shop_order_line (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        order_id uuid NOT NULL REFERENCES shop_order (id) ON DELETE CASCADE,
        product_id uuid NOT NULL,
        sku varchar(64) NOT NULL,
        name varchar(200) NOT NULL,
        unit_price_cents integer NOT NULL CHECK (unit_price_cents > 0),
        quantity integer NOT NULL CHECK (quantity BETWEEN 1 AND 99),
        ${ATTRIBUTION}
      )`);
    await q.query(`CREATE INDEX shop_order_line_order_idx ON shop_order_line (order_id)`);
    await q.query(`
      CREATE TABLE shop_payment (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        order_id uuid NOT NULL REFERENCES shop_order (id),
        owner_id varchar(300) NOT NULL,
        method varchar(32) NOT NULL,
        amount_cents integer NOT NULL CHECK (amount_cents > 0),
        currency char(3) NOT NULL,
        status varchar(16) NOT NULL,
        ${ATTRIBUTION}
      )`);
    await q.query(`CREATE INDEX shop_payment_order_idx ON shop_payment (order_id)`);
    await q.query(`
      CREATE TABLE shop_payment_method (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        owner_id varchar(300) NOT NULL,
        brand varchar(16) NOT NULL,
        last4 char(4) NOT NULL CHECK (last4 ~ '^[0-9]{4}$'),
        exp_month smallint NOT NULL CHECK (exp_month BETWEEN 1 AND 12),
        exp_year smallint NOT NULL,
        is_default boolean NOT NULL DEFAULT false,
        ${ATTRIBUTION}
      )`);
    await q.query(`CREATE INDEX shop_payment_method_owner_idx ON shop_payment_method (owner_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['shop_payment_method', 'shop_payment', 'shop_order_line', 'shop_order', 'shop_cart_item', 'shop_product']) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}

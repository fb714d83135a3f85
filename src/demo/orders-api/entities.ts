/**
 * The orders API's tables. Everything a request writes extends `Attributed`,
 * whose three columns the kit's AttributionSubscriber fills in: the doer
 * (the support agent when on behalf) and the customer acted for. `ownerId`
 * is set by the route from the token's `sub`: whose data it is.
 *
 * Column types are explicit: tools without decorator metadata (tsx) need them.
 * Money is integer cents; carts are capped so totals stay far below 2^31.
 */
import { Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, OneToMany, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { Relation } from 'typeorm';

export const STORES = ['electronics', 'books'] as const;
export type StoreSlug = (typeof STORES)[number];
export type OrderStatus = 'placed' | 'paid';

/** Stamped by the kit; never set by hand. */
export abstract class Attributed {
  @Column('varchar', { name: 'created_by', length: 300 }) createdBy!: string;
  @Column('varchar', { name: 'modified_by', length: 300 }) modifiedBy!: string;
  @Column('varchar', { name: 'on_behalf_of', length: 300, nullable: true }) onBehalfOf!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

/** Catalogue data, seeded by the system: not attributed, not audited. */
@Entity('shop_product')
export class Product {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('varchar', { length: 32 }) store!: StoreSlug;
  @Column('varchar', { length: 64 }) sku!: string;
  @Column('varchar', { length: 200 }) name!: string;
  @Column('varchar', { length: 1000 }) description!: string;
  @Column('integer', { name: 'price_cents' }) priceCents!: number;
  @Column('char', { length: 3 }) currency!: string;
}

@Entity('shop_cart_item')
export class CartItem extends Attributed {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('varchar', { name: 'owner_id', length: 300 }) ownerId!: string;
  @Column('uuid', { name: 'product_id' }) productId!: string;
  @ManyToOne(() => Product) @JoinColumn({ name: 'product_id' }) product?: Relation<Product>;
  @Column('integer') quantity!: number;
}

@Entity('shop_order')
export class Order extends Attributed {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('varchar', { name: 'owner_id', length: 300 }) ownerId!: string;
  @Column('varchar', { length: 32 }) store!: StoreSlug;
  @Column('varchar', { length: 16 }) status!: OrderStatus;
  @Column('integer', { name: 'total_cents' }) totalCents!: number;
  @Column('integer', { name: 'paid_cents', default: 0 }) paidCents!: number;
  @Column('char', { length: 3 }) currency!: string;
  @OneToMany(() => OrderLine, (line) => line.order) lines?: Relation<OrderLine>[];
  @OneToMany(() => Payment, (payment) => payment.order) payments?: Relation<Payment>[];
}

@Entity('shop_order_line')
export class OrderLine extends Attributed {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid', { name: 'order_id' }) orderId!: string;
  @ManyToOne(() => Order, (order) => order.lines, { onDelete: 'CASCADE' }) @JoinColumn({ name: 'order_id' }) order?: Relation<Order>;
  @Column('uuid', { name: 'product_id' }) productId!: string;
  /** Copied at placement: the order keeps what was bought even if the catalogue changes. */
  @Column('varchar', { length: 64 }) sku!: string;
  @Column('varchar', { length: 200 }) name!: string;
  @Column('integer', { name: 'unit_price_cents' }) unitPriceCents!: number;
  @Column('integer') quantity!: number;
}

@Entity('shop_payment')
export class Payment extends Attributed {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid', { name: 'order_id' }) orderId!: string;
  @ManyToOne(() => Order, (order) => order.payments) @JoinColumn({ name: 'order_id' }) order?: Relation<Order>;
  @Column('varchar', { name: 'owner_id', length: 300 }) ownerId!: string;
  @Column('varchar', { length: 32 }) method!: 'demo-card';
  @Column('integer', { name: 'amount_cents' }) amountCents!: number;
  @Column('char', { length: 3 }) currency!: string;
  @Column('varchar', { length: 16 }) status!: 'captured';
}

@Entity('shop_payment_method')
export class PaymentMethod extends Attributed {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('varchar', { name: 'owner_id', length: 300 }) ownerId!: string;
  @Column('varchar', { length: 16 }) brand!: string;
  @Column('char', { length: 4 }) last4!: string;
  @Column('smallint', { name: 'exp_month' }) expMonth!: number;
  @Column('smallint', { name: 'exp_year' }) expYear!: number;
  @Column('boolean', { name: 'is_default', default: false }) isDefault!: boolean;
}

export const ordersEntities = [Product, CartItem, Order, OrderLine, Payment, PaymentMethod];

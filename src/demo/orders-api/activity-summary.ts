/**
 * What an audited change was about, in words a customer reads ("Ordered 2 ×
 * Noise-cancelling headphones", "Paid 199.00 USD"), with the order it belongs
 * to: the access history names products and links orders instead of saying
 * "created an order line". Looked up in one query per entity kind for a page
 * of events; a row deleted since (a cart item removed) keeps a plain wording.
 */
import { In, type DataSource, type FindOptionsRelations } from 'typeorm';
import type { AuditEvent } from '../../audit/index.js';
import { Order, OrderLine, Payment, Product } from './entities.js';
import { isUuid } from '../../common/uuid.js';

export interface ActivitySummary {
  text: string;
  /** The order the change belongs to, when there is one (the storefront links it). */
  orderId?: string;
}

type Parts = { entity: string; change: string; id: string | null; productId: string | null; quantity: number | null };

function partsOf(event: AuditEvent): Parts {
  const [, entity = '', change = ''] = event.type.split('.');
  const { id, values } = event.details;
  // A cart item's product and quantity, recorded with each of its events (data-source.ts).
  const recorded = values && typeof values === 'object' && !Array.isArray(values) ? values : {};
  return {
    entity,
    change,
    id: typeof id === 'string' && isUuid(id) ? id : null,
    productId: typeof recorded.productId === 'string' && isUuid(recorded.productId) ? recorded.productId : null,
    quantity: typeof recorded.quantity === 'number' ? recorded.quantity : null,
  };
}

function money(cents: number, currency: string): string {
  return `${(cents / 100).toFixed(2)} ${currency}`;
}

async function rows<T extends { id: string }>(
  dataSource: DataSource,
  entity: new () => T,
  ids: string[],
  relations: FindOptionsRelations<T> = {},
): Promise<Map<string, T>> {
  if (!ids.length) return new Map();
  const found = await dataSource.getRepository(entity).find({ where: { id: In(ids) } as never, relations });
  return new Map(found.map((row) => [row.id, row]));
}

/** One summary per event id (events of unknown kinds, or rows gone, get none). */
export async function summariseActivity(dataSource: DataSource, events: AuditEvent[]): Promise<Map<string, ActivitySummary>> {
  const parts = events.map(partsOf);
  const idsOf = (entity: string) => [...new Set(parts.filter((p) => p.entity === entity && p.id).map((p) => p.id!))];
  const productIds = [...new Set(parts.map((p) => p.productId).filter((id): id is string => id !== null))];
  const [orders, lines, payments, products] = await Promise.all([
    rows(dataSource, Order, idsOf('order')),
    rows(dataSource, OrderLine, idsOf('order_line')),
    rows(dataSource, Payment, idsOf('payment')),
    rows(dataSource, Product, productIds),
  ]);
  const summaries = new Map<string, ActivitySummary>();
  events.forEach((event, index) => {
    const summary = describe(parts[index]!, { orders, lines, payments, products });
    if (summary) summaries.set(event.id, summary);
  });
  return summaries;
}

function describe(
  { entity, change, id, productId, quantity }: Parts,
  found: { orders: Map<string, Order>; lines: Map<string, OrderLine>; payments: Map<string, Payment>; products: Map<string, Product> },
): ActivitySummary | undefined {
  if (!id) return undefined;
  if (entity === 'order') {
    const order = found.orders.get(id);
    if (change === 'created')
      return { text: order ? `Placed an order of ${money(order.totalCents, order.currency)}` : 'Placed an order', orderId: id };
    if (change === 'updated') return { text: order?.status === 'paid' ? 'Order paid in full' : 'Order updated', orderId: id };
  }
  if (entity === 'order_line' && change === 'created') {
    const line = found.lines.get(id);
    return line ? { text: `Ordered ${line.quantity} × ${line.name}`, orderId: line.orderId } : undefined;
  }
  if (entity === 'payment' && change === 'created') {
    const payment = found.payments.get(id);
    return payment ? { text: `Paid ${money(payment.amountCents, payment.currency)}`, orderId: payment.orderId } : undefined;
  }
  if (entity === 'cart_item') {
    const product = productId ? found.products.get(productId)?.name : undefined;
    const what = product ? `${quantity ?? ''}${quantity ? ' × ' : ''}${product}` : 'an item';
    if (change === 'created') return { text: `Added ${what} to the cart` };
    if (change === 'updated')
      return {
        text: product
          ? `Changed the quantity of ${product} in the cart${quantity ? ` to ${quantity}` : ''}`
          : 'Changed an item in the cart',
      };
    if (change === 'deleted') return { text: `Took ${what} out of the cart` };
  }
  return undefined;
}

/** JSON shapes of the API's answers: money as cents plus a display string, attribution spelled out. */
import type { AuditEvent } from '../../audit/index.js';
import type { CartItem, Order, OrderLine, Payment, PaymentMethod, Product } from './entities.js';

export const money = (cents: number) => (cents / 100).toFixed(2);

function attribution(row: { createdBy: string; modifiedBy: string; onBehalfOf: string | null; createdAt: Date; updatedAt: Date }) {
  return {
    createdBy: row.createdBy,
    modifiedBy: row.modifiedBy,
    onBehalfOf: row.onBehalfOf,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function productView(product: Product) {
  return {
    id: product.id,
    store: product.store,
    sku: product.sku,
    name: product.name,
    description: product.description,
    priceCents: product.priceCents,
    price: money(product.priceCents),
    currency: product.currency,
  };
}

export function cartItemView(item: CartItem & { product: Product }) {
  return {
    id: item.id,
    product: productView(item.product),
    quantity: item.quantity,
    lineTotal: money(item.product.priceCents * item.quantity),
    ...attribution(item),
  };
}

export function cartView(items: (CartItem & { product: Product })[]) {
  const cents = items.reduce((sum, item) => sum + item.product.priceCents * item.quantity, 0);
  return { items: items.map(cartItemView), subtotalCents: cents, subtotal: money(cents), currency: 'USD' };
}

function lineView(line: OrderLine) {
  return {
    id: line.id,
    productId: line.productId,
    sku: line.sku,
    name: line.name,
    unitPrice: money(line.unitPriceCents),
    quantity: line.quantity,
    lineTotal: money(line.unitPriceCents * line.quantity),
  };
}

export function paymentView(payment: Payment) {
  return {
    id: payment.id,
    orderId: payment.orderId,
    method: payment.method,
    amountCents: payment.amountCents,
    amount: money(payment.amountCents),
    currency: payment.currency,
    status: payment.status,
    ...attribution(payment),
  };
}

/**
 * `placedBy`: who created the order, and whether an agent did it for the
 * owner. The kit keeps `onBehalfOf` as stamped at creation (later writes only
 * change `modifiedBy`; the audit trail has every step), so it still says
 * "placed on behalf" after the customer pays the order himself.
 */
export function orderView(order: Order) {
  return {
    id: order.id,
    ownerId: order.ownerId,
    store: order.store,
    status: order.status,
    totalCents: order.totalCents,
    total: money(order.totalCents),
    paidCents: order.paidCents,
    paid: money(order.paidCents),
    currency: order.currency,
    placedBy: { accountId: order.createdBy, onBehalf: order.onBehalfOf !== null },
    ...attribution(order),
    ...(order.lines ? { lines: order.lines.map(lineView) } : {}),
    ...(order.payments ? { payments: order.payments.map(paymentView) } : {}),
  };
}

export function paymentMethodView(method: PaymentMethod) {
  return {
    id: method.id,
    brand: method.brand,
    last4: method.last4,
    expMonth: method.expMonth,
    expYear: method.expYear,
    isDefault: method.isDefault,
    ...attribution(method),
  };
}

/** One line of "what was done on my account, and by whom". */
export function activityView(event: AuditEvent) {
  const [, entity, change] = event.type.split('.');
  return {
    seq: event.seq,
    occurredAt: event.occurredAt.toISOString(),
    type: event.type,
    entity,
    change,
    entityId: event.details.id ?? null,
    actor: event.actor,
    onBehalf: event.actor !== null && event.actor !== event.subject,
    sessionId: event.sessionId,
    clientId: event.clientId,
    ...(Array.isArray(event.details.changed) ? { changed: event.details.changed } : {}),
  };
}

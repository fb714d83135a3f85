/**
 * The orders API over HTTP with a Bearer token (the customer's own JWT) or a
 * DPoP-bound one with a proof per request (the on-behalf JWT from the
 * exchange, RFC 9449 §7). Only the shapes the pages use are typed here; the
 * API's README documents them all.
 */
import { dpopProof, type DpopKeyPair } from './dpop.js';

/** A Bearer token, or a DPoP-bound token with the key it is bound to. */
export type OrdersCredential = string | { token: string; dpop: DpopKeyPair };
export interface Product {
  id: string;
  sku: string;
  name: string;
  description: string;
  priceCents: number;
  price: string;
  currency: string;
}

export interface CartItem {
  id: string;
  product: Product;
  quantity: number;
  lineTotal: string;
}

export interface Cart {
  items: CartItem[];
  subtotalCents: number;
  subtotal: string;
  currency: string;
}

export interface Order {
  id: string;
  status: string;
  totalCents: number;
  total: string;
  paidCents: number;
  paid: string;
  currency: string;
  placedBy: { accountId: string; onBehalf: boolean };
  createdAt: string;
  lines?: { id: string; name: string; unitPrice: string; quantity: number; lineTotal: string }[];
  payments?: { id: string; method: string; amount: string; createdBy: string; onBehalfOf: string | null; createdAt: string }[];
}

export interface PaymentMethod {
  id: string;
  brand: string;
  last4: string;
  expMonth: number;
  expYear: number;
  isDefault: boolean;
}

export interface ActivityEvent {
  seq: number;
  occurredAt: string;
  type: string;
  entity: string;
  change: string;
  entityId: string | null;
  actor: string | null;
  onBehalf: boolean;
  sessionId: string | null;
  /** The change in words, with the order it belongs to (absent for kinds the API does not describe). */
  summary?: { text: string; orderId?: string };
}

/** The API's answer when it is not a 2xx (`status` 0: unreachable). */
export class OrdersApiError extends Error {
  override name = 'OrdersApiError';

  constructor(
    readonly status: number,
    readonly code: string,
    description: string,
  ) {
    super(description);
  }
}

export class OrdersApi {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs = 10_000,
  ) {}

  async request<T>(credential: OrdersCredential, method: string, path: string, body?: unknown): Promise<T> {
    const url = `${this.baseUrl}${path}`;
    const authorization =
      typeof credential === 'string'
        ? { authorization: `Bearer ${credential}` }
        : { authorization: `DPoP ${credential.token}`, dpop: await dpopProof(credential.dpop, method, url, credential.token) };
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          ...authorization,
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch {
      throw new OrdersApiError(0, 'unreachable', 'the orders service could not be reached');
    }
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // described below
    }
    if (!response.ok) {
      throw new OrdersApiError(
        response.status,
        typeof json.error === 'string' ? json.error : 'error',
        typeof json.error_description === 'string' ? json.error_description : `HTTP ${response.status}`,
      );
    }
    return json as T;
  }
}

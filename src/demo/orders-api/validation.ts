/**
 * Input validation at the edge: every body, query parameter and path id is
 * checked here, before anything reaches the database, and a failure names
 * the field and the rule (400), never a database error (500).
 */
import type { Context } from 'koa';
import { z } from 'zod';
import { badRequest, HttpError, notFound } from './http.js';
import { isUuid } from '../../common/uuid.js';
import { AuditCursorError, parseAuditCursor } from '../../audit/index.js';

export const MAX_QUANTITY = 99;
/** Distinct products per cart: with MAX_QUANTITY and the catalogue's prices, totals stay far below 2^31 cents. */
export const MAX_CART_ITEMS = 20;

export const addCartItemBody = z.strictObject({
  productId: z.string().refine(isUuid, 'must be a product id (UUID)'),
  quantity: z.int('must be a whole number').min(1, 'must be at least 1').max(MAX_QUANTITY, `must be at most ${MAX_QUANTITY}`),
});

/** Money in major units with at most two decimals, as a JSON number or string ("19.99"). */
const amount = z.union([z.number(), z.string()], 'must be an amount such as 19.99').transform((value, ctx) => {
  const text = typeof value === 'number' ? String(value) : value.trim();
  const match = /^(\d{1,7})(?:\.(\d{1,2}))?$/.exec(text);
  const cents = match ? Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0')) : 0;
  if (cents <= 0) {
    ctx.addIssue({ code: 'custom', message: 'must be a positive amount with at most two decimals, below 10,000,000' });
    return z.NEVER;
  }
  return cents;
});

export const paymentBody = z.strictObject({
  method: z.literal('demo-card', 'must be "demo-card" (the only method of this demo)'),
  amount,
});

const thisYear = () => new Date().getUTCFullYear();

export const paymentMethodsBody = z.strictObject({
  methods: z
    .array(
      z.strictObject({
        brand: z.enum(['visa', 'mastercard', 'amex', 'demo'], 'must be one of visa, mastercard, amex, demo'),
        last4: z.string().regex(/^[0-9]{4}$/, 'must be the last four digits'),
        expMonth: z.int('must be a whole number').min(1, 'must be 1 to 12').max(12, 'must be 1 to 12'),
        expYear: z
          .int('must be a whole number')
          .refine((year) => year >= thisYear() && year <= thisYear() + 20, 'must be this year or up to 20 years ahead'),
        isDefault: z.boolean('must be true or false').optional(),
      }),
      'must be a list of payment methods',
    )
    .max(5, 'at most 5 payment methods')
    .refine((methods) => methods.filter((method) => method.isDefault).length <= 1, 'at most one method can be the default'),
});

/** The value at `path` in the raw input (zod's issues do not carry it). */
function valueAt(input: unknown, path: PropertyKey[]): unknown {
  return path.reduce<unknown>(
    (value, key) => (value && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined),
    input,
  );
}

function describe(error: z.ZodError, input: unknown): string {
  const issue = error.issues[0]!;
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') return `unknown field ${issue.keys.map((key) => (path ? `${path}.${key}` : key)).join(', ')}`;
  if (issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined) return `${path || 'body'} is required`;
  return path ? `${path} ${issue.message}` : issue.message;
}

/** The JSON body, validated. A body that is not JSON is refused before the schema runs. */
export function parseBody<T extends z.ZodType>(ctx: Context, schema: T): z.output<T> {
  if (!ctx.is('application/json')) throw new HttpError(415, 'unsupported_media_type', 'send a JSON body (Content-Type: application/json)');
  const body: unknown = ctx.request.body;
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the request body must be a JSON object');
  const result = schema.safeParse(body);
  if (!result.success) throw badRequest(describe(result.error, body));
  return result.data;
}

/** A path id: anything that is not a UUID cannot name a row, so it is simply not found. */
export function pathId(ctx: Context, what: string): string {
  const id = (ctx as Context & { params?: Record<string, string> }).params?.id;
  if (!id || !isUuid(id)) throw notFound(what);
  return id;
}

/** One optional query parameter given at most once. */
export function queryParam(ctx: Context, name: string): string | undefined {
  const value = ctx.query[name];
  if (Array.isArray(value)) throw badRequest(`${name} may be given only once`);
  return value === undefined || value === '' ? undefined : value;
}

/** An audit paging cursor, as `nextBefore` gave it (`q1234`, `s56`). */
export function queryCursor(ctx: Context, name: string): string | undefined {
  const raw = queryParam(ctx, name);
  if (raw === undefined) return undefined;
  try {
    parseAuditCursor(raw);
  } catch (error) {
    if (error instanceof AuditCursorError) throw badRequest(`${name} must be a paging cursor as returned in nextBefore`);
    throw error;
  }
  return raw;
}

export function queryInt(ctx: Context, name: string, min: number, max: number): number | undefined {
  const raw = queryParam(ctx, name);
  if (raw === undefined) return undefined;
  const value = /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
  if (!(value >= min && value <= max)) throw badRequest(`${name} must be a whole number from ${min} to ${max}`);
  return value;
}

/**
 * The orders API's settings, from the environment only (it is a separate
 * service: it shares nothing with Behalf's config/ but the issuer's URL).
 * A mistake is one line naming the variable, never a stack trace.
 */

export interface OrdersConfig {
  port: number;
  host: string;
  /** Behalf's issuer URL (tokens' `iss`, JWKS, session status). */
  issuer: string;
  /** This API's resource identifier: the `aud` its tokens carry. */
  resource: string;
  /** The orders API's own client at Behalf (session status, introspection). */
  clientId: string;
  clientSecret: string;
  /** Unset: main.ts starts an embedded PostgreSQL under `embeddedDir`. */
  databaseUrl?: string;
  embeddedDir: string;
  /** Browser origins allowed to call the API (exact match). */
  corsOrigins: string[];
  sessionStatusCacheSeconds: number;
  maxBodyBytes: number;
}

export const DEFAULT_RESOURCE = 'http://localhost:4003';
const DEMO_SECRET = 'orders-api-demo-secret';

export class OrdersConfigError extends Error {
  override name = 'OrdersConfigError';
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new OrdersConfigError(`orders-api: ${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return value;
}

function url(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const raw = env[name] || fallback;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new OrdersConfigError(`orders-api: ${name} must be an absolute URL, got ${JSON.stringify(raw)}`);
  }
  if (!/^https?:$/.test(parsed.protocol) || parsed.search || parsed.hash) throw new OrdersConfigError(`orders-api: ${name} must be an http(s) URL without query or fragment`);
  // Behalf compares resource indicators without the root path's slash (`http://localhost:4003`).
  return raw.replace(/\/+$/, '');
}

function origins(raw: string): string[] {
  const list = raw.split(',').map((item) => item.trim()).filter(Boolean);
  for (const origin of list) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    // An origin is scheme://host[:port], nothing else: anything more could never match a browser's Origin header.
    if (!parsed || parsed.origin !== origin) throw new OrdersConfigError(`orders-api: ORDERS_CORS_ORIGINS: ${JSON.stringify(origin)} is not an origin (scheme://host[:port])`);
  }
  return list;
}

export function loadOrdersConfig(env: NodeJS.ProcessEnv = process.env): OrdersConfig {
  const clientSecret = env.ORDERS_CLIENT_SECRET || DEMO_SECRET;
  if (env.NODE_ENV === 'production' && clientSecret === DEMO_SECRET) throw new OrdersConfigError('orders-api: ORDERS_CLIENT_SECRET: the demo secret is public and refused in production');
  const databaseUrl = env.ORDERS_DATABASE_URL || env.DATABASE_URL;
  return {
    port: integer(env, 'ORDERS_PORT', 4003, 0, 65_535),
    host: env.ORDERS_HOST || '127.0.0.1',
    issuer: url(env, 'ISSUER', 'http://localhost:4000'),
    resource: url(env, 'ORDERS_RESOURCE', DEFAULT_RESOURCE),
    clientId: env.ORDERS_CLIENT_ID || 'orders-api',
    clientSecret,
    ...(databaseUrl ? { databaseUrl } : {}),
    embeddedDir: env.ORDERS_EMBEDDED_DIR || '.data/orders-postgres',
    corsOrigins: origins(env.ORDERS_CORS_ORIGINS ?? 'http://localhost:4001'),
    sessionStatusCacheSeconds: integer(env, 'ORDERS_SESSION_STATUS_CACHE_SECONDS', 5, 0, 300),
    maxBodyBytes: integer(env, 'ORDERS_MAX_BODY_BYTES', 16_384, 256, 1_048_576),
  };
}

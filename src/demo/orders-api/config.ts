/**
 * The orders API's settings, from the environment only (it is a separate
 * service: it shares nothing with Behalf's config/ but the issuer's URL).
 * A mistake is one line naming the variable, never a stack trace.
 */
import { envReader } from '../shared/env.js';

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
  /** The token status list check (ORDERS_STATUS_LIST_REFRESH_SECONDS, ORDERS_STATUS_LIST_MAX_STALE_SECONDS). */
  statusList: { refreshSeconds: number; maxStaleSeconds: number };
  maxBodyBytes: number;
}

export const DEFAULT_RESOURCE = 'http://localhost:4003';
const DEMO_SECRET = 'orders-api-demo-secret';

export class OrdersConfigError extends Error {
  override name = 'OrdersConfigError';
}

function origins(raw: string): string[] {
  const list = raw
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  for (const origin of list) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    // An origin is scheme://host[:port], nothing else: anything more could never match a browser's Origin header.
    if (!parsed || parsed.origin !== origin)
      throw new OrdersConfigError(`orders-api: ORDERS_CORS_ORIGINS: ${JSON.stringify(origin)} is not an origin (scheme://host[:port])`);
  }
  return list;
}

export function loadOrdersConfig(env: NodeJS.ProcessEnv = process.env): OrdersConfig {
  const read = envReader(env, 'orders-api', (message) => new OrdersConfigError(message));
  const clientSecret = env.ORDERS_CLIENT_SECRET || DEMO_SECRET;
  if (env.NODE_ENV === 'production' && clientSecret === DEMO_SECRET)
    throw new OrdersConfigError('orders-api: ORDERS_CLIENT_SECRET: the demo secret is public and refused in production');
  const databaseUrl = env.ORDERS_DATABASE_URL || env.DATABASE_URL;
  return {
    port: read.integer('ORDERS_PORT', 4003, 0, 65_535),
    host: env.ORDERS_HOST || '127.0.0.1',
    issuer: read.url('ISSUER', 'http://localhost:4000'),
    resource: read.url('ORDERS_RESOURCE', DEFAULT_RESOURCE),
    clientId: env.ORDERS_CLIENT_ID || 'orders-api',
    clientSecret,
    ...(databaseUrl ? { databaseUrl } : {}),
    embeddedDir: env.ORDERS_EMBEDDED_DIR || '.data/orders-postgres',
    corsOrigins: origins(env.ORDERS_CORS_ORIGINS ?? 'http://localhost:4001'),
    sessionStatusCacheSeconds: read.integer('ORDERS_SESSION_STATUS_CACHE_SECONDS', 5, 0, 300),
    statusList: {
      refreshSeconds: read.integer('ORDERS_STATUS_LIST_REFRESH_SECONDS', 4, 0, 300),
      maxStaleSeconds: read.integer('ORDERS_STATUS_LIST_MAX_STALE_SECONDS', 60, 1, 86_400),
    },
    maxBodyBytes: read.integer('ORDERS_MAX_BODY_BYTES', 16_384, 256, 1_048_576),
  };
}

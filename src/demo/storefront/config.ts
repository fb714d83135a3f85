/**
 * The storefront's settings, from the environment only (a separate app: it
 * shares nothing with Behalf's config/ but the issuer's URL). A mistake is
 * one line naming the variable, never a stack trace.
 */

export interface StorefrontConfig {
  port: number;
  host: string;
  issuer: string;
  ordersApiUrl: string;
  ordersResource: string;
  clientSecret: string;
  publicUrl: string;
  cookieKeys: string[];
  statusCacheSeconds: number;
  trustProxy: boolean;
}

const DEMO_SECRET = 'storefront-demo-secret';
/** Public, for development only: production refuses it. */
const DEV_COOKIE_KEY = 'storefront-development-cookie-key-not-for-production';

export class StorefrontConfigError extends Error {
  override name = 'StorefrontConfigError';
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new StorefrontConfigError(`storefront: ${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return value;
}

function url(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const raw = env[name] || fallback;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new StorefrontConfigError(`storefront: ${name} must be an absolute URL, got ${JSON.stringify(raw)}`);
  }
  if (!/^https?:$/.test(parsed.protocol) || parsed.search || parsed.hash) throw new StorefrontConfigError(`storefront: ${name} must be an http(s) URL without query or fragment`);
  return raw.replace(/\/+$/, '');
}

export function loadStorefrontConfig(env: NodeJS.ProcessEnv = process.env): StorefrontConfig {
  const production = env.NODE_ENV === 'production';
  const clientSecret = env.STOREFRONT_CLIENT_SECRET || DEMO_SECRET;
  if (production && clientSecret === DEMO_SECRET) throw new StorefrontConfigError('storefront: STOREFRONT_CLIENT_SECRET: the demo secret is public and refused in production');
  const cookieKeys = (env.STOREFRONT_COOKIE_KEYS || DEV_COOKIE_KEY).split(',').map((key) => key.trim()).filter(Boolean);
  if (cookieKeys.some((key) => key.length < 32)) throw new StorefrontConfigError('storefront: STOREFRONT_COOKIE_KEYS: each comma-separated key must be at least 32 characters');
  if (production && cookieKeys.includes(DEV_COOKIE_KEY)) throw new StorefrontConfigError('storefront: STOREFRONT_COOKIE_KEYS: the development key is public and refused in production');
  return {
    port: integer(env, 'STOREFRONT_PORT', 4001, 0, 65_535),
    host: env.STOREFRONT_HOST || '127.0.0.1',
    issuer: url(env, 'ISSUER', 'http://localhost:4000'),
    ordersApiUrl: url(env, 'ORDERS_API_URL', 'http://localhost:4003'),
    ordersResource: url(env, 'ORDERS_RESOURCE', 'http://localhost:4003'),
    clientSecret,
    publicUrl: url(env, 'STOREFRONT_PUBLIC_URL', 'http://localhost:4001'),
    cookieKeys,
    statusCacheSeconds: integer(env, 'STOREFRONT_STATUS_CACHE_SECONDS', 5, 0, 60),
    trustProxy: env.STOREFRONT_TRUST_PROXY === 'true',
  };
}

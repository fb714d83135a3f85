/**
 * The storefront's settings, from the environment only (a separate app: it
 * shares nothing with Behalf's config/ but the issuer's URL). A mistake is
 * one line naming the variable, never a stack trace.
 */
import { envReader } from '../shared/env.js';

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
  /** Where support agents go back to after an on-behalf session (the portal). */
  portalUrl: string;
}

const DEMO_SECRET = 'storefront-demo-secret';
/** Public, for development only: production refuses it. */
const DEV_COOKIE_KEY = 'storefront-development-cookie-key-not-for-production';

export class StorefrontConfigError extends Error {
  override name = 'StorefrontConfigError';
}

export function loadStorefrontConfig(env: NodeJS.ProcessEnv = process.env): StorefrontConfig {
  const read = envReader(env, 'storefront', (message) => new StorefrontConfigError(message));
  const production = env.NODE_ENV === 'production';
  const clientSecret = env.STOREFRONT_CLIENT_SECRET || DEMO_SECRET;
  if (production && clientSecret === DEMO_SECRET)
    throw new StorefrontConfigError('storefront: STOREFRONT_CLIENT_SECRET: the demo secret is public and refused in production');
  const cookieKeys = (env.STOREFRONT_COOKIE_KEYS || DEV_COOKIE_KEY)
    .split(',')
    .map((key) => key.trim())
    .filter(Boolean);
  if (cookieKeys.some((key) => key.length < 32))
    throw new StorefrontConfigError('storefront: STOREFRONT_COOKIE_KEYS: each comma-separated key must be at least 32 characters');
  if (production && cookieKeys.includes(DEV_COOKIE_KEY))
    throw new StorefrontConfigError('storefront: STOREFRONT_COOKIE_KEYS: the development key is public and refused in production');
  return {
    port: read.integer('STOREFRONT_PORT', 4001, 0, 65_535),
    host: env.STOREFRONT_HOST || '127.0.0.1',
    issuer: read.url('ISSUER', 'http://localhost:4000'),
    ordersApiUrl: read.url('ORDERS_API_URL', 'http://localhost:4003'),
    ordersResource: read.url('ORDERS_RESOURCE', 'http://localhost:4003'),
    clientSecret,
    publicUrl: read.url('STOREFRONT_PUBLIC_URL', 'http://localhost:4001'),
    cookieKeys,
    statusCacheSeconds: read.integer('STOREFRONT_STATUS_CACHE_SECONDS', 5, 0, 60),
    trustProxy: env.STOREFRONT_TRUST_PROXY === 'true',
    portalUrl: read.url('PORTAL_URL', 'http://localhost:4002'),
  };
}

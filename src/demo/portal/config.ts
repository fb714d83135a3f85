/**
 * The portal's settings, from the environment only: it is a separate app that
 * knows Behalf only by its issuer URL and its own client credentials. A
 * mistake is one line naming the variable, never a stack trace.
 */

export interface PortalConfig {
  port: number;
  host: string;
  /** Behalf's issuer URL. */
  issuer: string;
  /** Where browsers reach the portal; its /callback is the registered redirect URI. */
  publicUrl: string;
  clientId: string;
  clientSecret: string;
  /** The storefront's base URL; a store's on-behalf entry is <storefrontUrl>/<store>/on-behalf/start. */
  storefrontUrl: string;
  /** Cookie-signing keys, the first signs (rotate by prepending). */
  cookieKeys: string[];
  /** Trust X-Forwarded-Proto/Host (behind a TLS-terminating proxy). */
  trustProxy: boolean;
}

const DEMO_SECRET = 'portal-demo-secret';
/** Public, for development only: production refuses it. */
export const DEV_COOKIE_KEY = 'portal-development-cookie-key-do-not-use-in-production';

export class PortalConfigError extends Error {
  override name = 'PortalConfigError';
}

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65_535)
    throw new PortalConfigError(`portal: ${name} must be a port number (0-65535), got ${JSON.stringify(raw)}`);
  return value;
}

/** An http(s) base URL without query, fragment or trailing slash. */
export function baseUrl(name: string, raw: string): string {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new PortalConfigError(`portal: ${name} must be an absolute URL, got ${JSON.stringify(raw)}`);
  }
  if (!/^https?:$/.test(parsed.protocol) || parsed.search || parsed.hash || parsed.username)
    throw new PortalConfigError(`portal: ${name} must be an http(s) URL without credentials, query or fragment`);
  return raw.replace(/\/+$/, '');
}

export function loadPortalConfig(env: NodeJS.ProcessEnv = process.env): PortalConfig {
  const production = env.NODE_ENV === 'production';
  const clientSecret = env.PORTAL_CLIENT_SECRET || DEMO_SECRET;
  if (production && clientSecret === DEMO_SECRET)
    throw new PortalConfigError('portal: PORTAL_CLIENT_SECRET: the demo secret is public and refused in production');
  const cookieKeys = (env.PORTAL_COOKIE_KEYS ?? '')
    .split(',')
    .map((key) => key.trim())
    .filter(Boolean);
  if (cookieKeys.some((key) => key.length < 32))
    throw new PortalConfigError('portal: PORTAL_COOKIE_KEYS: each key must be at least 32 characters');
  if (production && !cookieKeys.length) throw new PortalConfigError('portal: PORTAL_COOKIE_KEYS must be set in production');
  const listenPort = port(env, 'PORTAL_PORT', 4002);
  return {
    port: listenPort,
    host: env.PORTAL_HOST || '127.0.0.1',
    issuer: baseUrl('ISSUER', env.ISSUER || 'http://localhost:4000'),
    publicUrl: baseUrl('PORTAL_URL', env.PORTAL_URL || `http://localhost:${listenPort || 4002}`),
    clientId: env.PORTAL_CLIENT_ID || 'portal',
    clientSecret,
    storefrontUrl: baseUrl('STOREFRONT_URL', env.STOREFRONT_URL || 'http://localhost:4001'),
    cookieKeys: cookieKeys.length ? cookieKeys : [DEV_COOKIE_KEY],
    trustProxy: env.PORTAL_TRUST_PROXY === 'true',
  };
}

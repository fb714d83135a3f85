/** The portal's configuration and its return-path check (no open redirects after sign-in). */
import { DEV_COOKIE_KEY, loadPortalConfig } from '../../src/demo/portal/config.js';
import { localPath } from '../../src/demo/portal/routes/deps.js';
import { onBehalfUrl } from '../../src/demo/portal/routes/contacts.js';

describe('loadPortalConfig', () => {
  it('has the demo defaults', () => {
    expect(loadPortalConfig({})).toEqual({
      port: 4002,
      host: '127.0.0.1',
      issuer: 'http://localhost:4000',
      publicUrl: 'http://localhost:4002',
      clientId: 'portal',
      clientSecret: 'portal-demo-secret',
      storefrontUrl: 'http://localhost:4001',
      cookieKeys: [DEV_COOKIE_KEY],
      trustProxy: false,
    });
  });

  it('reads the environment', () => {
    const config = loadPortalConfig({
      PORTAL_PORT: '5002',
      ISSUER: 'https://id.example.com/',
      STOREFRONT_URL: 'https://shop.example.com',
      PORTAL_COOKIE_KEYS: `${'a'.repeat(32)}, ${'b'.repeat(40)}`,
    });
    expect(config).toMatchObject({
      port: 5002,
      issuer: 'https://id.example.com',
      publicUrl: 'http://localhost:5002',
      storefrontUrl: 'https://shop.example.com',
      cookieKeys: ['a'.repeat(32), 'b'.repeat(40)],
    });
  });

  it.each([
    [{ PORTAL_PORT: 'abc' }, /PORTAL_PORT must be a port number/],
    [{ ISSUER: 'not a url' }, /ISSUER must be an absolute URL/],
    [{ STOREFRONT_URL: 'ftp://x' }, /STOREFRONT_URL must be an http\(s\) URL/],
    [{ PORTAL_COOKIE_KEYS: 'short' }, /at least 32 characters/],
    [{ NODE_ENV: 'production', PORTAL_COOKIE_KEYS: 'k'.repeat(32) }, /demo secret is public/],
    [{ NODE_ENV: 'production', PORTAL_CLIENT_SECRET: 's'.repeat(32) }, /PORTAL_COOKIE_KEYS must be set in production/],
  ])('refuses %j in one line', (env, message) => {
    expect(() => loadPortalConfig(env)).toThrow(message);
  });
});

describe('localPath', () => {
  it.each([
    ['/contacts?q=oleg', '/contacts?q=oleg'],
    ['/sessions', '/sessions'],
    ['//evil.example.com/', '/contacts'],
    ['/\\evil.example.com', '/contacts'],
    ['https://evil.example.com/', '/contacts'],
    ['/\t/evil.example.com', '/contacts'],
    ['javascript:alert(1)', '/contacts'],
    [undefined, '/contacts'],
    [['/a', '/b'], '/contacts'],
  ])('%j → %j', (value, expected) => {
    expect(localPath(value)).toBe(expected);
  });
});

it('builds the storefront entry URL for an account', () => {
  expect(onBehalfUrl('http://localhost:4001', 'books', 'f4a71efa-49bc-4da2-849d-859161377fde')).toBe(
    'http://localhost:4001/books/on-behalf/start?customer=f4a71efa-49bc-4da2-849d-859161377fde',
  );
});

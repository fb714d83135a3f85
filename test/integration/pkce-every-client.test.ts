/**
 * PKCE (S256) for every client by default (RFC 9700 §2.1.1), confidential ones
 * included; a legacy confidential client may opt out with
 * `behalf_pkce_optional: true` (CLI: `--pkce-optional`); a public client
 * cannot.
 */
import { runCli } from '../../src/cli/index.js';
import { registerClient } from '../../src/server/clients/register.js';
import { createServices } from '../../src/server/system.js';
import { startBehalfWithClients, testConfig, type RunningBehalf } from '../support/behalf.js';
import { HttpBrowser } from '../support/browser.js';
import { tokenRequest } from '../support/oauth.js';

const LEGACY = 'legacy-shop';
const LEGACY_SECRET = 'legacy-shop-secret-0123456789';
const LEGACY_REDIRECT = 'http://localhost:4999/legacy/callback';
const PORTAL_REDIRECT = 'http://localhost:4002/callback';
const STOREFRONT_REDIRECT = 'http://localhost:4001/electronics/callback';

let running: RunningBehalf;

const legacyMetadata = {
  client_id: LEGACY,
  client_name: 'Legacy shop without PKCE',
  client_kind: 'storefront' as const,
  store: 'electronics',
  first_party: true,
  redirect_uris: [LEGACY_REDIRECT],
  grant_types: ['authorization_code'],
  response_types: ['code'],
  scope: 'openid profile',
  behalf_pkce_optional: true,
};

beforeAll(async () => {
  running = await startBehalfWithClients([{ metadata: legacyMetadata, secret: LEGACY_SECRET }]);
});
afterAll(async () => {
  await running?.stop();
});

function authorizeUrl(clientId: string, redirectUri: string, extra: Record<string, string> = {}): string {
  return `${running.issuer}/auth?${new URLSearchParams({ client_id: clientId, response_type: 'code', redirect_uri: redirectUri, scope: 'openid', state: 'st', ...extra })}`;
}

async function cli(...argv: string[]) {
  const result = { code: 0, stdout: '', stderr: '' };
  const io = { stdout: { write: (text: string) => (result.stdout += text) }, stderr: { write: (text: string) => (result.stderr += text) } };
  result.code = await runCli(argv, io, { env: { NODE_ENV: 'test', DATABASE_URL: running.database.url } });
  return result;
}

describe('PKCE for every client', () => {
  it.each([
    ['portal', PORTAL_REDIRECT],
    ['storefront-electronics', STOREFRONT_REDIRECT],
  ])('refuses an authorization request of the confidential client %s without a code challenge', async (clientId, redirectUri) => {
    const response = await fetch(authorizeUrl(clientId, redirectUri), { redirect: 'manual' });
    expect(response.status).toBe(303);
    const location = new URL(response.headers.get('location')!);
    expect(location.origin + location.pathname).toBe(redirectUri);
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('error_description')).toMatch(/requires PKCE/);
    expect(location.searchParams.get('state')).toBe('st');
    expect(location.searchParams.get('code')).toBeNull();
  });

  it('lets a confidential client registered with behalf_pkce_optional complete the code flow without PKCE', async () => {
    const browser = new HttpBrowser(running.issuer);
    const login = await browser.follow(authorizeUrl(LEGACY, LEGACY_REDIRECT));
    expect(login.status).toBe(200);
    const callback = await browser.submit(login, '/login', { email: 'oleg@example.com', password: 'Customer-Demo-2026' });
    expect(callback.url.startsWith(LEGACY_REDIRECT)).toBe(true);
    const code = new URL(callback.url).searchParams.get('code');
    expect(code).toBeTruthy();
    const tokens = await tokenRequest(running.issuer, LEGACY, LEGACY_SECRET, {
      grant_type: 'authorization_code',
      code: code!,
      redirect_uri: LEGACY_REDIRECT,
    });
    expect({ status: tokens.status, error: tokens.body.error }).toEqual({ status: 200, error: undefined });
    expect(tokens.body.access_token).toEqual(expect.any(String));
  });

  it('refuses the opt-out for a public client, at registration and in the CLI', async () => {
    const services = await createServices(testConfig(running.database.url, 'http://127.0.0.1'));
    try {
      const publicClient = { ...legacyMetadata, client_id: 'public-legacy', token_endpoint_auth_method: 'none' };
      await expect(registerClient(services, publicClient, null)).rejects.toThrow(/behalf_pkce_optional is for confidential clients only/);
    } finally {
      await services.database.close();
    }
    const refused = await cli(
      'clients',
      'create',
      'cli-public-legacy',
      '--store',
      'books',
      '--public',
      '--pkce-optional',
      '--redirect-uri',
      'https://spa.example.com/cb',
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^behalf: .*pkce-optional/);
  });

  it('the CLI registers a legacy confidential client with --pkce-optional and shows the PKCE requirement', async () => {
    const created = await cli(
      'clients',
      'create',
      'cli-legacy',
      '--store',
      'books',
      '--pkce-optional',
      '--redirect-uri',
      'https://legacy.example.com/cb',
      '--json',
    );
    expect(created.stderr).toBe('');
    expect(JSON.parse(created.stdout)).toMatchObject({ client_id: 'cli-legacy', behalf_pkce_optional: true });
    expect((await cli('clients', 'show', 'cli-legacy')).stdout).toMatch(/PKCE:\s+optional \(legacy opt-out\)/);
    expect((await cli('clients', 'show', 'portal')).stdout).toMatch(/PKCE:\s+required \(S256\)/);
  });
});

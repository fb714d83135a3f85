/** Access tokens of the demo staff through the portal client, with the scopes a test chooses. */
import * as client from 'openid-client';
import { HttpBrowser } from './browser.js';
import { discover } from './oauth.js';

export const STAFF = {
  sam: { email: 'support@example.com', password: 'Support-Demo-2026' },
  bea: { email: 'books-support@example.com', password: 'Support-Demo-2026' },
  vic: { email: 'viewer@example.com', password: 'Support-Demo-2026' },
  ada: { email: 'admin@example.com', password: 'Admin-Demo-2026' },
} as const;

export const PORTAL_REDIRECT = 'http://localhost:4002/callback';

/** Authorization code + PKCE as the portal, signing in through Behalf's form; returns the access token. */
export async function portalToken(issuer: string, who: keyof typeof STAFF, scope = 'openid profile email directory:read'): Promise<string> {
  const config = await discover(issuer, 'portal', 'portal-demo-secret');
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: PORTAL_REDIRECT,
    scope,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  const browser = new HttpBrowser(issuer);
  const login = await browser.follow(url.toString());
  const done = await browser.submit(login, '/login', STAFF[who]);
  if (!done.url.startsWith(PORTAL_REDIRECT)) throw new Error(`sign-in ended at ${done.url} (${done.status}): ${done.html.slice(0, 500)}`);
  return (await client.authorizationCodeGrant(config, new URL(done.url), { pkceCodeVerifier: verifier, expectedState: state }))
    .access_token;
}

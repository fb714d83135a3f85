/** Access tokens of the demo staff through the portal client, with the scopes a test chooses. */
import { codeFlowTokens } from './oauth.js';

export const STAFF = {
  sam: { email: 'support@example.com', password: 'Support-Demo-2026' },
  bea: { email: 'books-support@example.com', password: 'Support-Demo-2026' },
  vic: { email: 'viewer@example.com', password: 'Support-Demo-2026' },
  ada: { email: 'admin@example.com', password: 'Admin-Demo-2026' },
} as const;

export const PORTAL_REDIRECT = 'http://localhost:4002/callback';

/** Authorization code + PKCE as the portal, signing in through Behalf's form; returns the access token. */
export async function portalToken(issuer: string, who: keyof typeof STAFF, scope = 'openid profile email directory:read'): Promise<string> {
  return (await codeFlowTokens(issuer, 'portal', 'portal-demo-secret', PORTAL_REDIRECT, STAFF[who].email, STAFF[who].password, scope))
    .access_token;
}

/**
 * The admin console's own OIDC client: built into Behalf (not in the
 * database, so no one can delete or re-point it), a confidential back-office
 * client whose secret is derived from the first cookie key (HKDF), so every
 * instance agrees on it without storing it. Its redirect URIs are on the
 * issuer's own origin.
 */
import { hkdfSync } from 'node:crypto';
import type { Config } from '../../../config/load.js';

export const CONSOLE_CLIENT_ID = 'admin-console';
export const CONSOLE_PATH = '/console';
/** What the console asks for: who the admin is. The admin API needs no scope, only the admin role. */
export const CONSOLE_SCOPE = 'openid profile email';

export function consoleClientSecret(config: { secrets: Pick<Config['secrets'], 'cookieKeys'> }): string {
  const key = config.secrets.cookieKeys[0]!;
  return Buffer.from(hkdfSync('sha256', key, 'behalf', 'admin-console client secret', 32)).toString('base64url');
}

export function consoleRedirectUri(config: Pick<Config, 'issuer'>): string {
  return `${config.issuer}${CONSOLE_PATH}/callback`;
}

/** Static client metadata for oidc-provider (added to the configured static clients). */
export function consoleClientMetadata(config: Pick<Config, 'issuer' | 'secrets'>): { client_id: string } & Record<string, unknown> {
  return {
    client_id: CONSOLE_CLIENT_ID,
    client_secret: consoleClientSecret(config),
    client_name: 'Behalf admin console',
    client_kind: 'backoffice',
    first_party: true,
    redirect_uris: [consoleRedirectUri(config)],
    post_logout_redirect_uris: [`${config.issuer}${CONSOLE_PATH}/signed-out`],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    scope: CONSOLE_SCOPE,
    allowed_resources: [],
  };
}

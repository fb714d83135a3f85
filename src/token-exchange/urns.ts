/**
 * The RFC 8693 identifiers, in one place for every part of Behalf (the grant,
 * the seed data, the demo storefront): the grant type (§2.1) and the token
 * types (§3), plus Behalf's own token type for a subject named by account id.
 */

export const GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:token-exchange';

export const TOKEN_TYPES = {
  accessToken: 'urn:ietf:params:oauth:token-type:access_token',
  refreshToken: 'urn:ietf:params:oauth:token-type:refresh_token',
  idToken: 'urn:ietf:params:oauth:token-type:id_token',
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
  /** Behalf's own: the subject is named by its account id (login on behalf). */
  accountId: 'urn:behalf:params:oauth:token-type:account_id',
} as const;

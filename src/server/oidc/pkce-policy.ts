/**
 * PKCE (RFC 7636, S256 only) for every client by default, as the OAuth 2.0
 * Security BCP asks. RFC 9700 §2.1.1: "Public clients MUST use PKCE [RFC7636]
 * to this end, as motivated in Section 4.5.3.1. For confidential clients, the
 * use of PKCE [RFC7636] is RECOMMENDED, as it provides strong protection
 * against misuse and injection of authorization codes as described in
 * Section 4.5 and, as a side effect, prevents CSRF even in the presence of
 * strong attackers as described in Section 4.7.1."
 *
 * A legacy confidential client that cannot send a code_challenge may opt out
 * with the client metadata `behalf_pkce_optional: true`; a public client never
 * can (it has no secret to bind the code to it).
 */

export const PKCE_OPTIONAL = 'behalf_pkce_optional';

interface PkceClient {
  /** `token_endpoint_auth_method`: `none` for a public client. */
  clientAuthMethod?: string | undefined;
  metadata(): Record<string, unknown>;
}

/** `pkce.required`: every client, except a confidential one registered with the opt-out. */
export function pkceRequired(client: PkceClient): boolean {
  return client.clientAuthMethod === 'none' || client.metadata()[PKCE_OPTIONAL] !== true;
}

/** Why `behalf_pkce_optional` is invalid for this client, or undefined when it is fine. */
export function pkceOptionalProblem(value: unknown, tokenEndpointAuthMethod: unknown): string | undefined {
  if (value === undefined || value === false) return undefined;
  if (value !== true) return `${PKCE_OPTIONAL} must be a boolean`;
  if (tokenEndpointAuthMethod === 'none')
    return `${PKCE_OPTIONAL} is for confidential clients only: a public client must use PKCE (RFC 9700 §2.1.1)`;
  return undefined;
}

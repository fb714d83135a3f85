/** Client metadata checked the way oidc-provider will check it when the client is loaded. */
import { errors } from 'oidc-provider';
import { GRANT_TYPE as TOKEN_EXCHANGE_GRANT } from '../../token-exchange/types.js';
import { clientMetadataValidator, unrecognisedClientMetadata } from './provider-internals.js';

/**
 * Undefined when oidc-provider accepts the metadata; otherwise what it says is wrong. `strict`:
 * a field oidc-provider does not know (and would drop) is a problem too (the admin API; RFC 7591
 * registration instead ignores what it does not understand, §2).
 */
export async function clientMetadataProblem(
  metadata: Record<string, unknown>,
  options: { strict?: boolean } = {},
): Promise<string | undefined> {
  try {
    await clientMetadataValidator([TOKEN_EXCHANGE_GRANT]).Client.validate(metadata as never);
  } catch (error) {
    return error instanceof errors.OIDCProviderError ? (error.error_description ?? error.message) : (error as Error).message;
  }
  if (!options.strict) return undefined;
  const unknown = unrecognisedClientMetadata(metadata, [TOKEN_EXCHANGE_GRANT]);
  return unknown.length ? `unknown client metadata field${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}` : undefined;
}

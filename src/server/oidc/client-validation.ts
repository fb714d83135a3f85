/** Client metadata checked the way oidc-provider will check it when the client is loaded. */
import { errors } from 'oidc-provider';
import { GRANT_TYPE as TOKEN_EXCHANGE_GRANT } from '../../token-exchange/types.js';
import { clientMetadataValidator } from './provider-internals.js';

/** Undefined when oidc-provider accepts the metadata; otherwise what it says is wrong. */
export async function clientMetadataProblem(metadata: Record<string, unknown>): Promise<string | undefined> {
  try {
    await clientMetadataValidator([TOKEN_EXCHANGE_GRANT]).Client.validate(metadata as never);
    return undefined;
  } catch (error) {
    return error instanceof errors.OIDCProviderError ? (error.error_description ?? error.message) : (error as Error).message;
  }
}

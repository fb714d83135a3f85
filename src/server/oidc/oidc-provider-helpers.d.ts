/**
 * Types for the one oidc-provider module Behalf imports beyond the package's
 * entry point (see provider-internals.ts): its DPoP proof validation, which
 * its own grants use and a custom grant cannot reach otherwise.
 */
declare module 'oidc-provider/lib/helpers/validate_dpop.js' {
  import type Provider from 'oidc-provider';
  import type { KoaContextWithOIDC } from 'oidc-provider';

  export interface DpopProofResult {
    thumbprint: string;
    jti: string;
    iat: number;
  }

  export default function validateDpop(
    provider: Provider,
    ctx: KoaContextWithOIDC,
    accessToken?: string,
  ): Promise<DpopProofResult | undefined>;
  export function checkDpopReplay(
    provider: Provider,
    ctx: KoaContextWithOIDC,
    dPoP: DpopProofResult | undefined,
    clientId: string,
    ErrorClass?: new (description: string) => Error,
  ): Promise<void>;
}

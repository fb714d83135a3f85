/**
 * DPoP proofs (RFC 9449 §4.2) made by hand with jose, for tests that need a
 * proof the real clients would never send (wrong key, wrong URI, replayed,
 * without `ath`), and the key pairs clients prove.
 */
import { createHash, randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair, SignJWT, type GenerateKeyPairResult } from 'jose';

export interface DpopKey {
  keyPair: GenerateKeyPairResult;
  /** RFC 7638 thumbprint of the public key: what `cnf.jkt` names. */
  jkt: string;
}

export async function dpopKey(): Promise<DpopKey> {
  const keyPair = await generateKeyPair('ES256', { extractable: true });
  return { keyPair, jkt: await calculateJwkThumbprint(await exportJWK(keyPair.publicKey)) };
}

export interface ProofClaims {
  htm?: string;
  htu: string;
  /** The access token the proof goes with (`ath`, §4.2); omit for token requests. */
  accessToken?: string;
  jti?: string;
  iat?: number;
  /** Leave `ath` out even with an access token (a proof the RS must refuse). */
  withoutAth?: boolean;
}

export async function dpopProof(key: DpopKey, claims: ProofClaims): Promise<string> {
  const { kty, crv, x, y } = await exportJWK(key.keyPair.publicKey);
  return new SignJWT({
    htm: claims.htm ?? 'POST',
    htu: claims.htu,
    jti: claims.jti ?? randomUUID(),
    ...(claims.accessToken && !claims.withoutAth ? { ath: createHash('sha256').update(claims.accessToken).digest('base64url') } : {}),
  })
    .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty, crv, x, y } })
    .setIssuedAt(claims.iat)
    .sign(key.keyPair.privateKey);
}

let storefront: Promise<DpopKey> | undefined;

/**
 * The key the tests' storefront proves at on-behalf exchanges (the demo storefront clients require
 * DPoP for them): one per test process, as the real storefront has one per on-behalf session.
 */
export function storefrontKey(): Promise<DpopKey> {
  return (storefront ??= dpopKey());
}

/** A proof for a token request to `tokenEndpoint` with the storefront's key. */
export async function storefrontTokenProof(tokenEndpoint: string): Promise<string> {
  return dpopProof(await storefrontKey(), { htu: tokenEndpoint });
}

/**
 * The Authorization (and DPoP) headers for calling a resource server with `token`: the DPoP scheme and
 * a fresh proof when it is a JWT bound to the storefront's key (RFC 9449 §7), else Bearer.
 */
export async function authorizationFor(token: string, method: string, url: string): Promise<Record<string, string>> {
  const key = await storefrontKey();
  let jkt: unknown;
  try {
    jkt = (decodeJwt(token).cnf as { jkt?: unknown } | undefined)?.jkt;
  } catch {
    jkt = undefined; // opaque, or not a token at all: presented as Bearer
  }
  if (jkt !== key.jkt) return { authorization: `Bearer ${token}` };
  return { authorization: `DPoP ${token}`, dpop: await dpopProof(key, { htm: method, htu: url, accessToken: token }) };
}

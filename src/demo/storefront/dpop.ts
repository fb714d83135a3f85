/**
 * The storefront's DPoP key (RFC 9449) for login on behalf: one ES256 key
 * pair per on-behalf session, made when the session starts and kept only in
 * this process's memory with it. The exchange proves it (openid-client's DPoP
 * handle), so the on-behalf token is bound to it (`cnf.jkt`); every call to
 * the orders API with that token carries a fresh proof (§7): method, URL
 * without query, the token's hash (`ath`), a new `jti`.
 */
import { createHash, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type GenerateKeyPairResult } from 'jose';

export type DpopKeyPair = GenerateKeyPairResult;

/** A non-extractable private key: it can sign proofs, never leave the process. */
export function newDpopKeyPair(): Promise<DpopKeyPair> {
  return generateKeyPair('ES256');
}

/** A DPoP proof for one request to a resource server with `accessToken` (RFC 9449 §4.2). */
export async function dpopProof(keyPair: DpopKeyPair, method: string, url: string, accessToken: string): Promise<string> {
  const htu = new URL(url);
  htu.search = '';
  htu.hash = '';
  const { kty, crv, x, y } = await exportJWK(keyPair.publicKey);
  return new SignJWT({
    htm: method,
    htu: htu.href,
    jti: randomUUID(),
    ath: createHash('sha256').update(accessToken).digest('base64url'),
  })
    .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty, crv, x, y } })
    .setIssuedAt()
    .sign(keyPair.privateKey);
}

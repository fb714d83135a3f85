/**
 * `status-list-1m`: the size of one Behalf status list at 1,000,000 issued
 * tokens with 1 % revoked at random (draft-ietf-oauth-status-list-21 §4,
 * §5.1; what the server renders, list-encoding.ts), and how fast such a list
 * is rendered and signed. Pure computation in the bench process.
 */
import { randomInt } from 'node:crypto';
import { SignJWT, generateKeyPair } from 'jose';
import { BITS, encodeLst, statusBytes } from '../../src/server/token-status/list-encoding.js';

export interface StatusListSize {
  tokens: number;
  revoked: number;
  raw_bytes: number;
  lst_bytes: number;
  jwt_bytes: number;
  renders_per_s: number;
  render_ms: number;
}

export async function statusListSize(seconds: number, tokens = 1_000_000, revokedShare = 0.01): Promise<StatusListSize> {
  const revoked = new Set<number>();
  while (revoked.size < Math.round(tokens * revokedShare)) revoked.add(randomInt(tokens));
  const { privateKey } = await generateKeyPair('ES256');
  const render = async () => {
    const bytes = statusBytes(revoked);
    const lst = encodeLst(bytes);
    const jwt = await new SignJWT({ status_list: { bits: BITS, lst }, ttl: 4 })
      .setProtectedHeader({ alg: 'ES256', kid: 'es256-bench', typ: 'statuslist+jwt' })
      .setIssuer('https://behalf.example.com')
      .setSubject('https://behalf.example.com/status-lists/0')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    return { raw: bytes.length, lst: Buffer.from(lst, 'base64url').length, jwt: jwt.length };
  };
  const first = await render();
  let count = 0;
  const started = performance.now();
  do {
    await render();
    count += 1;
  } while (performance.now() - started < seconds * 1000);
  const elapsed = performance.now() - started;
  return {
    tokens,
    revoked: revoked.size,
    raw_bytes: first.raw,
    lst_bytes: first.lst,
    jwt_bytes: first.jwt,
    renders_per_s: (count * 1000) / elapsed,
    render_ms: elapsed / count,
  };
}

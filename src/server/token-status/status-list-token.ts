/**
 * Status List Tokens (draft-ietf-oauth-status-list-21 §5.1): the list of one
 * range of token indexes, rendered from the database and signed with Behalf's
 * active ES256 key (the key resource servers already fetch from /jwks). Each
 * instance reuses a rendered token for `cacheMs` (1 s), so several instances
 * agree within about a second of a revocation.
 */
import { createHash } from 'node:crypto';
import { SignJWT, importJWK, type JWK } from 'jose';

type SigningKey = Awaited<ReturnType<typeof importJWK>>;
import type { DataSource } from 'typeorm';
import { loadKeystore } from '../keys/key-store.js';
import type { Sealer } from '../secrets/sealer.js';
import { BITS, encodeLst, statusBytes } from './list-encoding.js';
import { invalidIndexes, listExists, statusListUri } from './token-status-store.js';

export const STATUS_LIST_TYP = 'statuslist+jwt';

export interface StatusListTimes {
  /** `ttl` (§5.1): how long a consumer may cache the token before fetching it again. */
  ttlSeconds: number;
  /** `exp` − `iat`: after this no consumer may rely on the token. */
  lifetimeSeconds: number;
  /** How long one instance reuses a rendered token. */
  cacheMs: number;
  /** How long the signing key is reused before the key store is read again (rotation). */
  keyCacheMs: number;
}

export const DEFAULT_TIMES: StatusListTimes = { ttlSeconds: 4, lifetimeSeconds: 300, cacheMs: 1000, keyCacheMs: 5000 };

export interface RenderedList {
  jwt: string;
  etag: string;
}

export class StatusListTokens {
  private readonly rendered = new Map<number, { list: Promise<RenderedList | undefined>; at: number }>();
  private signer: { at: number; key: Promise<{ jwk: JWK; key: SigningKey }> } | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly sealer: Sealer,
    private readonly issuer: string,
    private readonly times: StatusListTimes = DEFAULT_TIMES,
  ) {}

  /** The signed list, or undefined when no token was ever listed in it. */
  async render(listId: number): Promise<RenderedList | undefined> {
    const cached = this.rendered.get(listId);
    if (cached && Date.now() - cached.at < this.times.cacheMs) return cached.list;
    const list = this.build(listId);
    this.rendered.set(listId, { list, at: Date.now() });
    // A failure is not cached: the next request tries again.
    list.catch(() => this.rendered.delete(listId));
    return list;
  }

  private async build(listId: number): Promise<RenderedList | undefined> {
    if (!(await listExists(this.dataSource, listId))) return undefined;
    const lst = encodeLst(statusBytes(await invalidIndexes(this.dataSource, listId)));
    const { jwk, key } = await this.signingKey();
    const iat = Math.floor(Date.now() / 1000);
    const jwt = await new SignJWT({ status_list: { bits: BITS, lst }, ttl: this.times.ttlSeconds })
      .setProtectedHeader({ alg: 'ES256', kid: jwk.kid!, typ: STATUS_LIST_TYP })
      .setIssuer(this.issuer)
      .setSubject(statusListUri(this.issuer, listId))
      .setIssuedAt(iat)
      .setExpirationTime(iat + this.times.lifetimeSeconds)
      .sign(key);
    return { jwt, etag: `"${createHash('sha256').update(jwt).digest('base64url').slice(0, 27)}"` };
  }

  private signingKey() {
    if (!this.signer || Date.now() - this.signer.at > this.times.keyCacheMs) {
      const key = (async () => {
        const { jwks } = await loadKeystore(this.dataSource, this.sealer);
        const jwk = jwks.keys.find((candidate) => candidate.alg === 'ES256' && !candidate.key_ops);
        if (!jwk) throw new Error('no active ES256 key to sign status lists');
        return { jwk, key: await importJWK(jwk, 'ES256') };
      })();
      this.signer = { at: Date.now(), key };
      key.catch(() => (this.signer = undefined));
    }
    return this.signer.key;
  }
}

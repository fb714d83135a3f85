/**
 * Reads tokens presented to the exchange: opaque ones through oidc-provider's
 * store, JWT access tokens (RFC 9068) through jose against Behalf's own
 * current public keys, with issuer, type, algorithm and expiry pinned. Never
 * `IdToken.validate` (it ignores expiry).
 */
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import type Provider from 'oidc-provider';
import type { DataSource } from 'typeorm';
import type { PresentedToken, TokenReader } from '../../token-exchange/ports.js';
import { isActClaim, type MayActClaim } from '../../token-exchange/types.js';

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const KEY_CACHE_MS = 5000;

function scopeList(scope: unknown): string[] {
  return typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [];
}

function mayAct(value: unknown): MayActClaim | undefined {
  return value && typeof value === 'object' && typeof (value as MayActClaim).sub === 'string' ? { sub: (value as MayActClaim).sub } : undefined;
}

export class OidcTokenReader implements TokenReader {
  private keys: { at: number; set: ReturnType<typeof createLocalJWKSet> } | undefined;

  constructor(
    private readonly provider: () => Provider,
    private readonly dataSource: DataSource,
    private readonly issuer: string,
  ) {}

  private async keySet() {
    if (!this.keys || Date.now() - this.keys.at > KEY_CACHE_MS) {
      const rows = (await this.dataSource.query(`SELECT public_jwk FROM signing_key WHERE status <> 'retired'`)) as { public_jwk: JSONWebKeySet['keys'][number] }[];
      this.keys = { at: Date.now(), set: createLocalJWKSet({ keys: rows.map((row) => row.public_jwk) }) };
    }
    return this.keys.set;
  }

  async read(value: string): Promise<PresentedToken | undefined> {
    return JWT_SHAPE.test(value) ? this.readJwt(value) : this.readOpaque(value);
  }

  private async readJwt(value: string): Promise<PresentedToken | undefined> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(value, await this.keySet(), { issuer: this.issuer, typ: 'at+jwt', algorithms: ['ES256', 'RS256'], requiredClaims: ['exp', 'sub', 'client_id', 'jti'] }));
    } catch {
      return undefined;
    }
    const clientId = String(payload.client_id);
    const act = isActClaim(payload.act) ? payload.act : undefined;
    return {
      format: 'jwt',
      subject: payload.sub!,
      accountId: payload.sub !== clientId || act ? payload.sub : undefined,
      clientId,
      audience: Array.isArray(payload.aud) ? payload.aud : payload.aud ? [payload.aud] : [],
      scope: scopeList(payload.scope),
      expiresAt: new Date(payload.exp! * 1000),
      act,
      mayAct: mayAct(payload.may_act),
      oboSessionId: typeof payload.obo_sid === 'string' ? payload.obo_sid : undefined,
      jti: payload.jti!,
    };
  }

  /**
   * What oidc-provider's introspection requires of a grant-bound token: the
   * grant still exists, is unexpired, and is this client's for this account.
   * A token whose grant was revoked (session ended, logout) is not valid here either.
   */
  private async grantHolds(grantId: string, clientId: string, accountId: string | undefined): Promise<boolean> {
    const grant = await this.provider().Grant.find(grantId, { ignoreExpiration: true });
    return !!grant && !grant.isExpired && grant.clientId === clientId && grant.accountId === accountId;
  }

  private async readOpaque(value: string): Promise<PresentedToken | undefined> {
    if (value.length > 200 || value.includes('\u0000')) return undefined;
    const provider = this.provider();
    const token = (await provider.AccessToken.find(value)) ?? (await provider.ClientCredentials.find(value));
    if (!token || token.isExpired) return undefined;
    const extra = (token.extra ?? {}) as Record<string, unknown>;
    const aud = (token as { aud?: string | string[] }).aud;
    const accountId = (token as { accountId?: string }).accountId;
    const grantId = (token as { grantId?: string }).grantId;
    if (grantId && !(await this.grantHolds(grantId, token.clientId!, accountId))) return undefined;
    return {
      format: 'opaque',
      subject: accountId ?? token.clientId!,
      accountId,
      clientId: token.clientId!,
      grantId,
      audience: Array.isArray(aud) ? aud : aud ? [aud] : [],
      scope: scopeList(token.scope),
      expiresAt: new Date(token.exp! * 1000),
      act: isActClaim(extra.act) ? extra.act : undefined,
      mayAct: mayAct(extra.may_act),
      oboSessionId: typeof extra.obo_sid === 'string' ? extra.obo_sid : undefined,
      jti: token.jti,
    };
  }
}

/**
 * Reads tokens presented to the exchange: opaque ones through the OIDC port
 * (oidc-provider's store), JWT access tokens (RFC 9068) through jose against
 * Behalf's own public keys from the key store, with issuer, type, algorithm
 * and expiry pinned. Never `IdToken.validate` (it ignores expiry).
 */
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import type { DataSource } from 'typeorm';
import type { PresentedToken, TokenReader } from '../../token-exchange/ports.js';
import { isActClaim, type MayActClaim } from '../../token-exchange/types.js';
import { publicKeys } from '../keys/key-store.js';
import type { OidcPort } from '../oidc/port.js';

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const KEY_CACHE_MS = 5000;

function scopeList(scope: unknown): string[] {
  return typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [];
}

function mayAct(value: unknown): MayActClaim | undefined {
  return value && typeof value === 'object' && typeof (value as MayActClaim).sub === 'string'
    ? { sub: (value as MayActClaim).sub }
    : undefined;
}

/** RFC 9449 §6.1 `cnf.jkt` of a DPoP-bound JWT. */
function boundKey(cnf: unknown): { boundKey?: string } {
  const jkt = cnf && typeof cnf === 'object' ? (cnf as { jkt?: unknown }).jkt : undefined;
  return typeof jkt === 'string' && jkt ? { boundKey: jkt } : {};
}

export class OidcTokenReader implements TokenReader {
  private keys: { at: number; set: ReturnType<typeof createLocalJWKSet> } | undefined;

  constructor(
    private readonly oidc: OidcPort,
    private readonly dataSource: DataSource,
    private readonly issuer: string,
    /** A JWT's entry in the token status list: a revoked one is no longer a valid subject or actor token. */
    private readonly status?: { isValid(payload: JWTPayload): Promise<boolean> },
  ) {}

  private async keySet() {
    if (!this.keys || Date.now() - this.keys.at > KEY_CACHE_MS) {
      this.keys = { at: Date.now(), set: createLocalJWKSet((await publicKeys(this.dataSource)) as JSONWebKeySet) };
    }
    return this.keys.set;
  }

  async read(value: string): Promise<PresentedToken | undefined> {
    return JWT_SHAPE.test(value) ? this.readJwt(value) : this.readOpaque(value);
  }

  private async readJwt(value: string): Promise<PresentedToken | undefined> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(value, await this.keySet(), {
        issuer: this.issuer,
        typ: 'at+jwt',
        algorithms: ['ES256', 'RS256'],
        requiredClaims: ['exp', 'sub', 'client_id', 'jti'],
      }));
    } catch {
      return undefined;
    }
    const revoked = this.status ? !(await this.status.isValid(payload)) : false;
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
      ...(revoked ? { revoked: true as const } : {}),
      ...boundKey(payload.cnf),
    };
  }

  private async readOpaque(value: string): Promise<PresentedToken | undefined> {
    const token = await this.oidc.findToken(value, { clientCredentials: true });
    if (!token) return undefined;
    // What oidc-provider's introspection requires of a grant-bound token: its grant still holds.
    // A token whose grant was revoked (session ended, logout) is not valid here either.
    if (token.grantId && !(await this.oidc.grantHolds(token.grantId, token.clientId, token.accountId))) return undefined;
    return {
      format: 'opaque',
      subject: token.accountId ?? token.clientId,
      accountId: token.accountId,
      clientId: token.clientId,
      grantId: token.grantId,
      audience: token.audience,
      scope: token.scope,
      expiresAt: token.expiresAt,
      act: isActClaim(token.extra.act) ? token.extra.act : undefined,
      mayAct: mayAct(token.extra.may_act),
      oboSessionId: typeof token.extra.obo_sid === 'string' ? token.extra.obo_sid : undefined,
      jti: token.jti,
      ...(token.boundKey ? { boundKey: token.boundKey } : {}),
    };
  }
}

/**
 * Behalf's own JWT access tokens after issue: their status entry, and the
 * answers RFC 7662 introspection and RFC 7009 revocation give for them
 * (oidc-provider handles opaque tokens only). A JWT is Behalf's when it
 * verifies against Behalf's own keys as an RFC 9068 access token with this
 * issuer; its status is read from token_status, never from the token.
 */
import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import type { DataSource } from 'typeorm';
import type { AuditService } from '../audit-trail/audit-service.js';
import type { RequestMeta } from '../audit-trail/request-meta.js';
import { tokenReference } from '../../audit/token-reference.js';
import { publicKeys } from '../keys/key-store.js';
import { deferStatus, type StatusRow } from './deferred-registration.js';
import { IndexAllocator } from './index-allocator.js';
import {
  insertStatuses,
  revokeTokens,
  statusClaim,
  statusRow,
  tokenStatus,
  type StatusClaim,
  type TokenStatusEntry,
} from './token-status-store.js';

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const KEY_CACHE_MS = 5000;

/** Who asks: the authenticated client, and the resource servers it operates. */
export interface CallingClient {
  clientId: string;
  resourceServers: string[];
}

function audience(payload: JWTPayload): string[] {
  return Array.isArray(payload.aud) ? payload.aud : payload.aud ? [payload.aud] : [];
}

export class TokenStatusService {
  private keys: { at: number; set: ReturnType<typeof createLocalJWKSet> } | undefined;
  private readonly indexes: IndexAllocator;

  constructor(
    private readonly dataSource: DataSource,
    private readonly issuer: string,
    private readonly audit: AuditService,
  ) {
    this.indexes = new IndexAllocator(dataSource);
  }

  /**
   * Lists a token about to be issued and returns its `status` claim. Inside a token request the
   * row goes out with the request's audit record (deferred-registration.ts); otherwise it is
   * committed here, before the token is signed.
   */
  async register(entry: TokenStatusEntry): Promise<StatusClaim> {
    const row = statusRow(entry, await this.indexes.next());
    if (!deferStatus(row)) await insertStatuses(this.dataSource, [row]);
    return statusClaim(this.issuer, row.idx);
  }

  /** Writes status rows that no audit record carried (see oidc/audit/token-issued.ts). */
  insert(rows: StatusRow[]): Promise<void> {
    return insertStatuses(this.dataSource, rows);
  }

  /**
   * Whether a verified JWT of Behalf's is still good as far as its status goes: listed and VALID.
   * A token that names a status list but is not listed is refused (fail closed); one without
   * a `status` claim predates status lists and has only its expiry.
   */
  async isValid(payload: JWTPayload): Promise<boolean> {
    const status = await tokenStatus(this.dataSource, String(payload.jti));
    if (status === undefined) return payload.status === undefined;
    return status === 0;
  }

  /** The claims of a JWT access token Behalf issued (signature, issuer, type); expired ones too when asked. */
  async verify(value: string, options: { allowExpired?: boolean } = {}): Promise<JWTPayload | undefined> {
    if (value.length > 16_384 || !JWT_SHAPE.test(value)) return undefined;
    try {
      const { payload } = await jwtVerify(value, await this.keySet(), {
        issuer: this.issuer,
        typ: 'at+jwt',
        algorithms: ['ES256', 'RS256'],
        requiredClaims: ['exp', 'sub', 'client_id', 'jti'],
      });
      return payload;
    } catch (error) {
      if (options.allowExpired && error instanceof joseErrors.JWTExpired) return error.payload;
      return undefined;
    }
  }

  /**
   * RFC 7662 §2.2 for a JWT: `active` only when it verifies, is unexpired and VALID, and only to
   * the token's own client or a resource server in its audience (as for opaque tokens).
   */
  async introspect(client: CallingClient, value: string): Promise<Record<string, unknown>> {
    const payload = await this.verify(value);
    if (!payload) return { active: false };
    const operated = new Set(client.resourceServers);
    if (payload.client_id !== client.clientId && !audience(payload).some((aud) => operated.has(aud))) return { active: false };
    if (!(await this.isValid(payload))) return { active: false };
    return { ...payload, active: true, token_type: 'Bearer' };
  }

  /**
   * RFC 7009 §2.1 for a JWT: only its own client may revoke it (others get the same 200 and nothing
   * changes, §2.2); the token and every token derived from it become INVALID, recorded in one
   * transaction with `token.revoked`. Returns how many tokens changed.
   */
  async revoke(client: CallingClient, value: string, meta: RequestMeta): Promise<number> {
    const payload = await this.verify(value, { allowExpired: true });
    if (!payload || payload.client_id !== client.clientId) return 0;
    return this.dataSource.transaction(async (manager) => {
      const count = await revokeTokens(manager, { jti: String(payload.jti) }, 'revoked');
      if (count > 0)
        await this.audit.record(
          {
            type: 'token.revoked',
            actor: `client:${client.clientId}`,
            subject: payload.sub === client.clientId ? null : (payload.sub ?? null),
            clientId: client.clientId,
            sessionId: typeof payload.obo_sid === 'string' ? payload.obo_sid : null,
            ...meta,
            details: { token_kind: 'AccessToken', access_token_format: 'jwt', jti: payload.jti, reason: 'revoked', tokens_revoked: count },
          },
          manager,
        );
      return count;
    });
  }

  /** The JWTs exchanged from a revoked opaque token (`jti`), and every token derived from them, become INVALID. */
  async revokeDerived(client: CallingClient, jti: string, meta: RequestMeta): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      // Opaque tokens are bearer secrets: lineage names them by their reference (see the exchange's issuer).
      const count = await revokeTokens(manager, { jti: tokenReference(jti) }, 'revoked');
      if (count > 0)
        await this.audit.record(
          {
            type: 'token.revoked',
            actor: `client:${client.clientId}`,
            subject: null,
            clientId: client.clientId,
            ...meta,
            details: { reason: 'subject_token_revoked', access_token_format: 'jwt', tokens_revoked: count },
          },
          manager,
        );
      return count;
    });
  }

  /** A revoked grant's JWT access tokens, and every token derived from them, become INVALID. */
  async revokeGrant(grantId: string): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const count = await revokeTokens(manager, { grantId }, 'grant_revoked');
      if (count > 0)
        await this.audit.record(
          {
            type: 'token.revoked',
            actor: 'system',
            subject: null,
            clientId: null,
            details: { reason: 'grant_revoked', grant_id: grantId, access_token_format: 'jwt', tokens_revoked: count },
          },
          manager,
        );
      return count;
    });
  }

  private async keySet() {
    if (!this.keys || Date.now() - this.keys.at > KEY_CACHE_MS) {
      this.keys = { at: Date.now(), set: createLocalJWKSet((await publicKeys(this.dataSource)) as JSONWebKeySet) };
    }
    return this.keys.set;
  }
}

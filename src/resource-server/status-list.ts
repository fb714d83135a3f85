/**
 * Token Status List checks (draft-ietf-oauth-status-list-21 §8.3) for
 * Behalf's JWT access tokens: each token names a status list and an index in
 * its `status` claim (§6.2); the list is fetched from Behalf, verified with
 * the same keys as the tokens, cached, and fetched again once it is older
 * than `refreshSeconds` (default 4, and never later than the list's own
 * `ttl`). Behalf renders a list at most 1 s before serving it, so a token
 * revoked at Behalf is refused here within 5 s with the defaults.
 *
 * Fail closed: when the list cannot be fetched again, the cached copy is
 * used only while it is younger than `maxStaleSeconds` (and unexpired);
 * beyond that every token of the list is refused with 503
 * `token_unverifiable` until Behalf answers again.
 */
import { inflateSync } from 'node:zlib';
import { jwtVerify, type JWTVerifyGetKey } from 'jose';
import { KitError } from './errors.js';

export const STATUS_LIST_MEDIA_TYPE = 'application/statuslist+jwt';

export interface StatusListOptions {
  /** Fetch a list again once the cached copy is this old. Default 4 s (Behalf's copy may be 1 s old: 5 s in all). */
  refreshSeconds?: number;
  /** Refuse tokens (503) once the newest copy that could be fetched is this old. Default 60 s. */
  maxStaleSeconds?: number;
  /** Per fetch. Default 5 s. */
  timeoutMs?: number;
}

export interface StatusListCheckerOptions extends StatusListOptions {
  issuer: string;
  /** The key source the verifier uses: status lists are signed with Behalf's token keys. */
  keys: JWTVerifyGetKey;
  algorithms?: string[];
}

export interface StatusListChecker {
  /** Resolves when the token's status is VALID; throws KitError otherwise. */
  assertValid(claims: Record<string, unknown>): Promise<void>;
}

interface CachedList {
  bits: number;
  bytes: Uint8Array;
  fetchedAt: number;
  /** When the list itself expires (`exp`), ms. */
  expiresAt: number;
  /** Refetch after this many ms (refreshSeconds, or the list's `ttl` if shorter). */
  refreshMs: number;
}

const MAX_LISTS = 1000;
/** A list of 2^20 one-bit entries inflates to 128 KiB; refuse anything that inflates past 16 MiB. */
const MAX_INFLATED_BYTES = 16 * 1024 * 1024;
/** A list is fetched again in the background this long before it is due. */
const PREFETCH_MS = 1000;
/** After a failed fetch, a usable cached copy is served this long before the next attempt. */
const RETRY_AFTER_FAILURE_MS = 1000;

function unverifiable(): KitError {
  return new KitError('token_unverifiable', 'the access token could not be checked right now');
}

/** The `status.status_list` reference of a token (§6.2), or undefined when it has none or a malformed one. */
function reference(claims: Record<string, unknown>): { idx: number; uri: string } | undefined {
  const status = claims.status as { status_list?: { idx?: unknown; uri?: unknown } } | undefined;
  const list = status && typeof status === 'object' ? status.status_list : undefined;
  if (!list || typeof list !== 'object') return undefined;
  const { idx, uri } = list;
  if (typeof idx !== 'number' || !Number.isSafeInteger(idx) || idx < 0 || typeof uri !== 'string') return undefined;
  return { idx, uri };
}

/** The status value at `idx` (§4.1: entries packed from each byte's least significant bit); undefined when out of bounds. */
export function statusAt(bytes: Uint8Array, bits: number, idx: number): number | undefined {
  const bit = idx * bits;
  const byte = bytes[bit >> 3];
  if (byte === undefined) return undefined;
  return (byte >> (bit & 7)) & ((1 << bits) - 1);
}

/** The byte array of a Status List's `lst` (§4.2: base64url of ZLIB/DEFLATE). Throws when it is not one. */
export function decodeLst(lst: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]+$/.test(lst)) throw new Error('lst is not base64url');
  return new Uint8Array(inflateSync(Buffer.from(lst, 'base64url'), { maxOutputLength: MAX_INFLATED_BYTES }));
}

/**
 * @example
 * const statusList = createStatusListChecker({ issuer: 'http://localhost:4000', keys, refreshSeconds: 4, maxStaleSeconds: 60 });
 * await statusList.assertValid(verifiedClaims); // throws KitError token_revoked / token_unverifiable
 */
export function createStatusListChecker(options: StatusListCheckerOptions): StatusListChecker {
  const issuer = options.issuer.replace(/\/+$/, '');
  const refreshMs = (options.refreshSeconds ?? 4) * 1000;
  const maxStaleMs = (options.maxStaleSeconds ?? 60) * 1000;
  const algorithms = options.algorithms ?? ['ES256'];
  const lists = new Map<string, CachedList>();
  const inFlight = new Map<string, Promise<CachedList>>();
  const failedAt = new Map<string, number>();

  async function fetchList(uri: string): Promise<CachedList> {
    const response = await fetch(uri, {
      headers: { accept: STATUS_LIST_MEDIA_TYPE },
      // Redirects are not followed: a list must come from Behalf's own status-list URI.
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
    });
    if (response.status !== 200) throw new Error(`the status list endpoint answered ${response.status}`);
    if (!(response.headers.get('content-type') ?? '').startsWith(STATUS_LIST_MEDIA_TYPE)) throw new Error('not a status list token');
    // §5.1 and §8.3: typ, signature, the claims JWT requires, and `sub` equal to the token's `uri`.
    const { payload } = await jwtVerify(await response.text(), options.keys, {
      issuer,
      subject: uri,
      typ: 'statuslist+jwt',
      algorithms,
      requiredClaims: ['sub', 'iat'],
    });
    const statusList = payload.status_list as { bits?: unknown; lst?: unknown } | undefined;
    const bits = statusList?.bits;
    if (typeof bits !== 'number' || ![1, 2, 4, 8].includes(bits) || typeof statusList?.lst !== 'string')
      throw new Error('the status list token has no valid status_list');
    const ttl = typeof payload.ttl === 'number' && payload.ttl > 0 ? payload.ttl * 1000 : Infinity;
    return {
      bits,
      bytes: decodeLst(statusList.lst),
      fetchedAt: Date.now(),
      expiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 : Infinity,
      refreshMs: Math.min(refreshMs, ttl),
    };
  }

  /** One fetch per list at a time; a success replaces the cached copy, a failure is remembered. */
  function refetch(uri: string): Promise<CachedList> {
    let pending = inFlight.get(uri);
    if (!pending) {
      pending = fetchList(uri).then(
        (fresh) => {
          failedAt.delete(uri);
          if (!lists.has(uri) && lists.size >= MAX_LISTS) lists.clear();
          lists.set(uri, fresh);
          return fresh;
        },
        (error: unknown) => {
          failedAt.set(uri, Date.now());
          throw error;
        },
      );
      void pending.finally(() => inFlight.delete(uri)).catch(() => undefined);
      inFlight.set(uri, pending);
    }
    return pending;
  }

  /**
   * The cached copy while it is fresh (no waiting). In the last second before it is due, a
   * fetch starts in the background, so under steady traffic no request waits for one.
   */
  function fresh(uri: string): CachedList | undefined {
    const cached = lists.get(uri);
    if (!cached) return undefined;
    const age = Date.now() - cached.fetchedAt;
    if (age >= cached.refreshMs || Date.now() >= cached.expiresAt) return undefined;
    const recentlyFailed = Date.now() - (failedAt.get(uri) ?? -Infinity) < RETRY_AFTER_FAILURE_MS;
    if (age >= cached.refreshMs - Math.min(PREFETCH_MS, cached.refreshMs / 4) && !inFlight.has(uri) && !recentlyFailed)
      refetch(uri).catch(() => undefined);
    return cached;
  }

  /** A list that is due: fetched again (waiting for it); a stale copy only within the bound. */
  async function due(uri: string): Promise<CachedList> {
    const now = Date.now();
    const cached = lists.get(uri);
    const usable = cached && now - cached.fetchedAt <= maxStaleMs && now < cached.expiresAt ? cached : undefined;
    if (usable && now - (failedAt.get(uri) ?? -Infinity) < RETRY_AFTER_FAILURE_MS) return usable;
    try {
      return await refetch(uri);
    } catch {
      if (usable) return usable;
      throw unverifiable();
    }
  }

  return {
    async assertValid(claims) {
      const ref = reference(claims);
      // Behalf puts `status` into every JWT access token: one without it cannot be checked.
      if (!ref) throw new KitError('invalid_token', 'the access token has no usable status claim');
      // Only Behalf's own lists: a token cannot send this server fetching elsewhere.
      if (!ref.uri.startsWith(`${issuer}/`)) throw new KitError('invalid_token', 'the access token names a status list not at its issuer');
      const { bits, bytes } = fresh(ref.uri) ?? (await due(ref.uri));
      const status = statusAt(bytes, bits, ref.idx);
      // §8.3: an index outside the list allows no statement about the token: it is refused.
      if (status === undefined) throw new KitError('invalid_token', 'the access token names an index outside its status list');
      if (status !== 0) throw new KitError('token_revoked', 'the access token has been revoked');
    },
  };
}

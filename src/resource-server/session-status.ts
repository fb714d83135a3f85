/**
 * On-behalf session status. A JWT cannot be recalled, so a resource server
 * asks Behalf whether the token's `obo_sid` session still runs, and caches the
 * answer for `cacheSeconds` (default 5). Trade-off: a session ended at Behalf
 * is refused here within that many seconds; a shorter cache costs one status
 * request per session per period. An ended session is final and cached as such.
 * When Behalf cannot be asked, requests are refused (fail closed).
 */
import { KitError } from './errors.js';

export interface SessionStatusOptions {
  issuer: string;
  /** The resource server's own client at Behalf (HTTP Basic). */
  clientId: string;
  clientSecret: string;
  cacheSeconds?: number;
}

export interface SessionStatusChecker {
  /** Resolves when the session is active; throws KitError `session_ended` or `session_unverifiable`. */
  assertActive(sessionId: string): Promise<void>;
}

const MAX_ENTRIES = 10_000;

/**
 * @example
 * const sessions = createSessionStatusChecker({ issuer, clientId: 'orders-api', clientSecret, cacheSeconds: 5 });
 * await sessions.assertActive(principal.onBehalfSessionId!);
 */
export function createSessionStatusChecker(options: SessionStatusOptions): SessionStatusChecker {
  const issuer = options.issuer.replace(/\/+$/, '');
  const ttl = (options.cacheSeconds ?? 5) * 1000;
  const authorization = `Basic ${Buffer.from(`${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`).toString('base64')}`;
  const cache = new Map<string, { active: boolean; until: number }>();
  const inFlight = new Map<string, Promise<boolean>>();

  async function fetchActive(sessionId: string): Promise<boolean> {
    let response: Response;
    try {
      response = await fetch(`${issuer}/on-behalf/sessions/${encodeURIComponent(sessionId)}/status`, {
        headers: { authorization, accept: 'application/json' },
        signal: AbortSignal.timeout(5000),
      });
    } catch {
      throw new KitError('session_unverifiable', 'the on-behalf session could not be checked right now');
    }
    // 404: Behalf knows no such session (for this client): refuse, as for an ended one.
    if (response.status === 404) return false;
    let body: unknown;
    try {
      body = response.ok ? await response.json() : undefined;
    } catch {
      body = undefined;
    }
    const active = body && typeof body === 'object' ? (body as { active?: unknown }).active : undefined;
    if (typeof active !== 'boolean') throw new KitError('session_unverifiable', 'the on-behalf session could not be checked right now');
    return active;
  }

  return {
    async assertActive(sessionId) {
      const cached = cache.get(sessionId);
      let active = cached && (cached.until > Date.now() || !cached.active) ? cached.active : undefined;
      if (active === undefined) {
        let pending = inFlight.get(sessionId);
        if (!pending) {
          pending = fetchActive(sessionId).finally(() => inFlight.delete(sessionId));
          inFlight.set(sessionId, pending);
        }
        active = await pending;
        if (cache.size >= MAX_ENTRIES) cache.clear();
        cache.set(sessionId, { active, until: Date.now() + ttl });
      }
      if (!active) throw new KitError('session_ended', 'the on-behalf session has ended');
    },
  };
}

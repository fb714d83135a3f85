/**
 * Behalf's plain HTTP APIs that are not OAuth protocol endpoints:
 * - the on-behalf session back channel (HTTP Basic with the store's client):
 *   `GET /on-behalf/sessions/:id/status` and `POST /on-behalf/sessions/end`;
 * - the customer API (the customer's own opaque access token):
 *   `GET /account/on-behalf-sessions` and `POST /account/on-behalf-sessions/:id/end`.
 */
import type { StoreDefinition } from './stores.js';

export interface SessionStatus {
  session_id: string;
  active: boolean;
  expires_at: string;
  ended_at: string | null;
  end_reason: string | null;
  /** Given to the session's own client only: why the agent acts, for the banner. */
  reason?: string;
  ticket?: string | null;
}

/** One on-behalf session on the customer's account, as the customer API describes it. */
export interface AccountSession {
  id: string;
  agent: { id: string; name?: string };
  client: { id: string; name?: string };
  reason: string;
  ticket: string | null;
  started_at: string;
  expires_at: string;
  ended_at: string | null;
  end_reason: string | null;
  active: boolean;
}

/** Behalf answered with an error, or could not be reached (`status` 0). */
export class BehalfApiError extends Error {
  override name = 'BehalfApiError';

  constructor(
    readonly status: number,
    readonly code: string,
    description: string,
  ) {
    super(description);
  }
}

function basic(clientId: string, secret: string): string {
  // RFC 6749 §2.3.1: both parts form-urlencoded before base64.
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(secret)}`).toString('base64')}`;
}

export class BehalfApi {
  constructor(
    private readonly issuer: string,
    private readonly clientSecret: string,
    private readonly timeoutMs = 10_000,
  ) {}

  private async call<T>(path: string, init: { method?: string; authorization: string; form?: Record<string, string> }): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.issuer}${path}`, {
        method: init.method ?? 'GET',
        headers: {
          authorization: init.authorization,
          accept: 'application/json',
          ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch {
      throw new BehalfApiError(0, 'unreachable', 'Behalf could not be reached');
    }
    const text = await response.text();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // not JSON: only possible for errors; described below
    }
    if (!response.ok) {
      throw new BehalfApiError(
        response.status,
        typeof body.error === 'string' ? body.error : 'error',
        typeof body.error_description === 'string' ? body.error_description : `HTTP ${response.status}`,
      );
    }
    return body as T;
  }

  private client(store: StoreDefinition): string {
    return basic(store.clientId, this.clientSecret);
  }

  sessionStatus(store: StoreDefinition, sessionId: string): Promise<SessionStatus> {
    return this.call(`/on-behalf/sessions/${encodeURIComponent(sessionId)}/status`, { authorization: this.client(store) });
  }

  endSession(store: StoreDefinition, sessionId: string): Promise<SessionStatus> {
    return this.call('/on-behalf/sessions/end', { method: 'POST', authorization: this.client(store), form: { session_id: sessionId } });
  }

  async accountSessions(accessToken: string): Promise<AccountSession[]> {
    const body = await this.call<{ sessions?: AccountSession[] }>('/account/on-behalf-sessions', {
      authorization: `Bearer ${accessToken}`,
    });
    return Array.isArray(body.sessions) ? body.sessions : [];
  }

  endAccountSession(accessToken: string, sessionId: string): Promise<AccountSession> {
    return this.call(`/account/on-behalf-sessions/${encodeURIComponent(sessionId)}/end`, {
      method: 'POST',
      authorization: `Bearer ${accessToken}`,
    });
  }
}

/**
 * Behalf's customer API for the customer's say in login on behalf, called
 * with the customer's own opaque token (Behalf refuses tokens used on their
 * behalf): the access policy, approval requests, and "this wasn't me" reports.
 */
import { BehalfApiError } from './behalf-api.js';

export type AccessPolicy = 'without_asking' | 'after_approval' | 'never';

export interface PolicyAnswer {
  policy: AccessPolicy;
  effective: AccessPolicy;
  store: { allow_never: boolean; require_approval: boolean };
  choices: { value: AccessPolicy; allowed: boolean }[];
}

export interface ApprovalRequest {
  id: string;
  status: 'pending' | 'approved' | 'denied' | 'expired';
  agent: { id: string; name: string };
  client: { id: string; name: string };
  reason: string;
  ticket: string | null;
  requested_at: string;
  expires_at: string;
  decided_at: string | null;
  approved_for: 'session' | '24h' | '7d' | null;
  valid_until: string | null;
}

export class ControlApi {
  constructor(
    private readonly issuer: string,
    private readonly timeoutMs = 10_000,
  ) {}

  private async call<T>(token: string, path: string, method = 'GET', body?: Record<string, unknown>): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.issuer}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch {
      throw new BehalfApiError(0, 'unreachable', 'Behalf could not be reached');
    }
    let parsed: Record<string, unknown> = {};
    try {
      parsed = (await response.json()) as Record<string, unknown>;
    } catch {
      // described below
    }
    if (!response.ok)
      throw new BehalfApiError(
        response.status,
        typeof parsed.error === 'string' ? parsed.error : 'error',
        typeof parsed.error_description === 'string' ? parsed.error_description : `HTTP ${response.status}`,
      );
    return parsed as T;
  }

  policy = (token: string) => this.call<PolicyAnswer>(token, '/account/access-policy');
  setPolicy = (token: string, policy: AccessPolicy) => this.call<PolicyAnswer>(token, '/account/access-policy', 'PUT', { policy });
  requests = async (token: string) => (await this.call<{ requests: ApprovalRequest[] }>(token, '/account/approval-requests')).requests;
  request = (token: string, id: string) => this.call<ApprovalRequest>(token, `/account/approval-requests/${encodeURIComponent(id)}`);
  approve = (token: string, id: string, duration: string) =>
    this.call<ApprovalRequest>(token, `/account/approval-requests/${encodeURIComponent(id)}/approve`, 'POST', { duration });
  deny = (token: string, id: string) =>
    this.call<ApprovalRequest>(token, `/account/approval-requests/${encodeURIComponent(id)}/deny`, 'POST');
  report = (token: string, sessionId: string, comment: string) =>
    this.call<{ id: string }>(token, `/account/on-behalf-sessions/${encodeURIComponent(sessionId)}/report`, 'POST', {
      ...(comment ? { comment } : {}),
    });
}

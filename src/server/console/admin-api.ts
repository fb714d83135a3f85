/**
 * The console calls Behalf's documented admin HTTP API with the signed-in
 * admin's access token, like the CLI or any script could: the role checks,
 * validation and audit records are the API's, never the console's own.
 */

export interface ApiAnswer<T = Record<string, unknown>> {
  status: number;
  body: T & { error?: string; error_description?: string; field?: string };
}

/** The API refused the token (expired, revoked, or the admin lost the role). */
export class ApiAuthError extends Error {
  override name = 'ApiAuthError';
  constructor(
    readonly status: 401 | 403,
    message: string,
  ) {
    super(message);
  }
}

export class AdminApi {
  constructor(
    private readonly baseUrl: string,
    private readonly accessToken: string,
    /** The admin's browser, so the audit trail records who was at the keyboard. */
    private readonly userAgent: string | undefined,
  ) {}

  async call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<ApiAnswer<T>> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.accessToken}`,
        accept: 'application/json',
        ...(this.userAgent ? { 'user-agent': this.userAgent } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      redirect: 'manual',
    });
    const text = await response.text();
    let parsed: ApiAnswer<T>['body'];
    try {
      parsed = (text ? JSON.parse(text) : {}) as ApiAnswer<T>['body'];
    } catch {
      parsed = {
        error: 'bad_response',
        error_description: `the admin API answered ${response.status} without JSON`,
      } as ApiAnswer<T>['body'];
    }
    if (response.status === 401 || response.status === 403)
      throw new ApiAuthError(response.status, parsed.error_description ?? 'the admin API refused the request');
    return { status: response.status, body: parsed };
  }

  get<T = Record<string, unknown>>(path: string): Promise<ApiAnswer<T>> {
    return this.call<T>('GET', path);
  }

  /** The raw response (for exports that stream). */
  raw(path: string): Promise<Response> {
    return fetch(`${this.baseUrl}${path}`, {
      headers: { authorization: `Bearer ${this.accessToken}`, ...(this.userAgent ? { 'user-agent': this.userAgent } : {}) },
    });
  }
}

/** `?a=1&b=2` from the filters that have a value (empty string when none do). */
export function queryString(params: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) search.set(key, value);
  const text = search.toString();
  return text ? `?${text}` : '';
}

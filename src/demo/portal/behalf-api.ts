/**
 * Behalf's HTTP APIs as the portal uses them: the directory and the admin
 * APIs, called with the signed-in staff member's access token. Answers are
 * turned into the portal's own errors at this one place: 401 means "sign in
 * again", 403 "not allowed", 400 carries Behalf's reason to the page.
 */
export class PortalError extends Error {
  override name = 'PortalError';

  constructor(
    readonly status: number,
    readonly title: string,
    message: string,
  ) {
    super(message);
  }
}

/** The access token is missing, expired or no longer accepted: the user must sign in (again). */
export class SignInRequired extends Error {
  override name = 'SignInRequired';

  constructor(
    message: string,
    /** Behalf refused the token (rather than the portal knowing it has none, or that it expired). */
    readonly refused = false,
  ) {
    super(message);
  }
}

export const forbidden = (message = 'This page is for administrators.') => new PortalError(403, 'Not allowed', message);
export const notFound = (message = 'There is no such page.') => new PortalError(404, 'Not found', message);

type Query = Record<string, string | undefined>;

const TIMEOUT_MS = 10_000;

export class BehalfApi {
  constructor(readonly issuer: string) {}

  private url(path: string, query: Query = {}): string {
    const url = new URL(path, `${this.issuer}/`);
    for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== '') url.searchParams.set(key, value);
    return url.toString();
  }

  /**
   * One request; network failures become a 502 page rather than a crash. The
   * timeout covers reading the body too: streams (the audit export) pass a longer one.
   */
  async request(method: 'GET' | 'POST', path: string, token: string, query?: Query, timeoutMs = TIMEOUT_MS): Promise<Response> {
    try {
      return await fetch(this.url(path, query), {
        method,
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch {
      throw new PortalError(502, 'Behalf is not answering', 'The portal could not reach Behalf. Try again in a moment.');
    }
  }

  /** Throws the portal error for any answer but 2xx. */
  async check(response: Response): Promise<Response> {
    if (response.ok) return response;
    const body = (await response.json().catch(() => ({}))) as { error?: string; error_description?: string };
    const reason = typeof body.error_description === 'string' ? body.error_description : undefined;
    switch (response.status) {
      case 401:
        throw new SignInRequired(reason ?? 'the access token was refused', true);
      case 403:
        throw forbidden(reason ? `Behalf refused: ${reason}.` : undefined);
      case 404:
        throw notFound(reason ? `Behalf says: ${reason}.` : undefined);
      case 400:
        throw new PortalError(
          400,
          'Check your search',
          reason ? `Behalf could not use the request: ${reason}.` : 'Behalf could not use the request.',
        );
      default:
        throw new PortalError(502, 'Behalf had a problem', `Behalf answered ${response.status}. Try again in a moment.`);
    }
  }

  async json<T>(method: 'GET' | 'POST', path: string, token: string, query?: Query): Promise<T> {
    const response = await this.check(await this.request(method, path, token, query));
    return (await response.json()) as T;
  }

  get<T>(path: string, token: string, query?: Query): Promise<T> {
    return this.json<T>('GET', path, token, query);
  }

  post<T>(path: string, token: string): Promise<T> {
    return this.json<T>('POST', path, token);
  }
}

/**
 * The storefront's HTTP edge: one error type that becomes a clean HTML page
 * with the right status, and a redirect signal that code deep in a request
 * (say, "this token must be renewed first") can raise without knowing how the
 * page is built. Bad input is always a 4xx page; only our own faults are 500s,
 * and those say nothing about internals.
 */
export class PageError extends Error {
  override name = 'PageError';

  constructor(
    readonly status: number,
    /** The page's heading and title. */
    readonly title: string,
    /** What happened and what to do, for a person. */
    message: string,
    /** Optional technical detail (e.g. an API's error_description), shown smaller. */
    readonly detail?: string,
    /** The page is for a support agent (a login on behalf went wrong): it leads back to the portal. */
    readonly forAgent = false,
  ) {
    super(message);
  }
}

/** Thrown to end the request with a 303 to `location` (an absolute URL or a path of this app). */
export class RedirectSignal extends Error {
  override name = 'RedirectSignal';

  constructor(readonly location: string) {
    super(`redirect to ${location}`);
  }
}

export const notFound = (what = 'page') => new PageError(404, 'Not found', `There is no such ${what} here.`);
export const badRequest = (message: string, detail?: string) => new PageError(400, 'That did not work', message, detail);

export { isUuid } from '../../common/uuid.js';

/** One form field as a trimmed string; a field sent twice or as something else is a bad request. */
export function formField(body: unknown, name: string, options: { required?: boolean; max?: number } = {}): string {
  const value = body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  if (value === undefined || value === '') {
    if (options.required) throw badRequest(`The form is missing “${name}”.`);
    return '';
  }
  if (typeof value !== 'string') throw badRequest(`The form field “${name}” was sent more than once.`);
  const trimmed = value.trim();
  if (trimmed.length > (options.max ?? 200)) throw badRequest(`The form field “${name}” is too long.`);
  return trimmed;
}

/** One query parameter given at most once. */
export function queryParam(query: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) throw badRequest(`The parameter “${name}” was given more than once.`);
  return value === undefined || value === '' ? undefined : value;
}

/** 303 See Other: the answer to a form post is a GET of the page that shows the result. */
export function seeOther(ctx: { redirect(url: string): void; status: number }, location: string): void {
  ctx.redirect(location);
  ctx.status = 303;
}

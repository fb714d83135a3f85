/**
 * Resource indicators (RFC 8707) are compared as strings, but
 * `http://localhost:4003` and `http://localhost:4003/` name the same thing.
 * Every comparison goes through this one normalisation: an origin-only URL
 * loses its trailing slash (and an empty query); anything else is kept as
 * `URL.href` gives it.
 */
export class ResourceIndicatorError extends Error {
  override name = 'ResourceIndicatorError';
}

export function normaliseResourceIndicator(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ResourceIndicatorError(`resource indicator must be an absolute URI: ${JSON.stringify(value).slice(0, 200)}`);
  }
  // An empty fragment (`…/#`) has `hash === ''` but is still a fragment.
  if (url.hash || url.href.includes('#')) throw new ResourceIndicatorError('resource indicator must not have a fragment (RFC 8707 §2)');
  if (url.username || url.password) throw new ResourceIndicatorError('resource indicator must not carry credentials');
  const href = url.href;
  // An empty query (`http://host/?`) has `search === ''` but keeps its `?` in href:
  // strip "/?" as well as "/", or it would normalise to the origin *with* a slash.
  return url.pathname === '/' && !url.search ? href.replace(/\/\??$/, '') : href;
}

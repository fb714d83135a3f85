/**
 * Resource indicators (RFC 8707) are compared as strings, but
 * `http://localhost:4003` and `http://localhost:4003/` name the same thing.
 * Every comparison goes through this one normalisation: an origin-only URL
 * loses its trailing slash; anything else is kept as `URL.href` gives it.
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
  if (url.hash) throw new ResourceIndicatorError('resource indicator must not have a fragment (RFC 8707 §2)');
  if (url.username || url.password) throw new ResourceIndicatorError('resource indicator must not carry credentials');
  const href = url.href;
  return url.pathname === '/' && !url.search ? href.slice(0, -1) : href;
}

/**
 * The storefront demo in-process against a running Behalf and orders API,
 * and a cookie-keeping HTTP "browser" that drives Behalf and the storefront
 * together. The storefront presents itself as http://localhost:4001 (the
 * redirect URIs registered at Behalf) while listening on a random port: the
 * browser maps that public origin to the real address, so every URL it shows
 * and follows is the one a real browser would see.
 */
import { createStorefront, type Storefront, type StorefrontOptions } from '../../src/demo/storefront/app.js';
import type { RunningBehalf } from './behalf.js';
import { decodeHtml, type Page } from './browser.js';
import type { RunningOrdersApi } from './orders-api.js';

export const STOREFRONT = 'http://localhost:4001';
/** The banner while Sam Support acts as Oleg Petrov, as a person reads it. */
export const SAM_AS_OLEG = 'Support agent Sam Support is acting as Oleg Petrov — End session';

export interface RunningStorefront {
  storefront: Storefront;
  /** The real address it listens on. */
  url: string;
  /** Every unexpected (500) error it hit: tests expect none. */
  errors: unknown[];
  stop(): Promise<void>;
}

export async function startStorefront(
  running: RunningBehalf,
  orders: RunningOrdersApi,
  options: Partial<StorefrontOptions> = {},
): Promise<RunningStorefront> {
  const errors: unknown[] = [];
  const storefront = createStorefront({
    issuer: running.issuer,
    ordersApiUrl: orders.url,
    clientSecret: 'storefront-demo-secret',
    publicUrl: STOREFRONT,
    cookieKeys: ['storefront-test-cookie-key-0123456789abcdef'],
    onError: (error) => errors.push(error),
    ...options,
  });
  const { url } = await storefront.listen(0);
  return { storefront, url, errors, stop: () => storefront.close() };
}

interface StoredCookie {
  host: string;
  path: string;
  name: string;
  value: string;
}

/** A form's action and fields, as a browser would submit it. */
export interface FormChoice {
  /** Only a form whose HTML contains this (e.g. a product id) is chosen. */
  containing?: string;
}

export class WebBrowser {
  /** Host-only cookies keyed by host, path and name; like browsers, the port is ignored. */
  private readonly cookies = new Map<string, StoredCookie>();

  /** `origins` maps a public origin (http://localhost:4001) to where it really listens. */
  constructor(private readonly origins: Record<string, string>) {}

  private real(url: URL): string {
    const target = this.origins[url.origin];
    return target ? `${target}${url.pathname}${url.search}` : url.toString();
  }

  private cookieHeader(url: URL): string {
    const matches = [...this.cookies.values()].filter((cookie) => cookie.host === url.hostname && pathMatches(url.pathname, cookie.path));
    // RFC 6265 §5.4: longer paths first.
    return matches
      .sort((a, b) => b.path.length - a.path.length)
      .map((cookie) => `${cookie.name}=${cookie.value}`)
      .join('; ');
  }

  private remember(url: URL, headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';').map((part) => part.trim());
      const index = pair!.indexOf('=');
      const name = pair!.slice(0, index);
      const value = pair!.slice(index + 1);
      const pathAttribute = attributes.find((attribute) => /^path=/i.test(attribute))?.slice(5);
      const path = pathAttribute?.startsWith('/') ? pathAttribute : defaultPath(url.pathname);
      const key = `${url.hostname}|${path}|${name}`;
      const expired = attributes.some((attribute) => /^expires=.*1970/i.test(attribute) || /^max-age=(0|-)/i.test(attribute));
      if (expired || value === '') this.cookies.delete(key);
      else this.cookies.set(key, { host: url.hostname, path, name, value });
    }
  }

  /** The cookies this browser would send to `url` (name → value). */
  cookiesFor(url: string): Map<string, string> {
    const parsed = new URL(url);
    return new Map(
      [...this.cookies.values()]
        .filter((cookie) => cookie.host === parsed.hostname && pathMatches(parsed.pathname, cookie.path))
        .map((cookie) => [cookie.name, cookie.value]),
    );
  }

  /** All stored cookies (for assertions on names, paths). */
  allCookies(): StoredCookie[] {
    return [...this.cookies.values()];
  }

  /** One request, no redirects followed. */
  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const parsed = new URL(url);
    const headers = new Headers(init.headers);
    const cookie = this.cookieHeader(parsed);
    if (cookie) headers.set('cookie', cookie);
    const response = await fetch(this.real(parsed), { ...init, headers, redirect: 'manual' });
    this.remember(parsed, response.headers);
    return response;
  }

  /** Follows redirects anywhere (303 and 302 turn into GET, as browsers do); the page's URL is the public one. */
  async open(url: string, init: RequestInit = {}): Promise<Page> {
    let current = url;
    let response = await this.request(current, init);
    for (let hops = 0; response.status >= 300 && response.status < 400; hops += 1) {
      if (hops === 20) throw new Error(`too many redirects from ${url}`);
      current = new URL(response.headers.get('location')!, current).toString();
      response = await this.request(current);
    }
    return { url: current, status: response.status, html: await response.text(), headers: response.headers };
  }

  /** Submits the form whose action contains `actionPart`, with its hidden fields plus `fields`. */
  async submit(page: Page, actionPart: string, fields: Record<string, string> = {}, choice: FormChoice = {}): Promise<Page> {
    const forms = [...page.html.matchAll(/<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)];
    const form = forms.find(
      (match) => decodeHtml(match[1]!).includes(actionPart) && (!choice.containing || match[2]!.includes(choice.containing)),
    );
    if (!form)
      throw new Error(
        `no form with action containing ${actionPart} on ${page.url} (${page.status}):\n${visibleText(page.html).slice(0, 600)}`,
      );
    const body = new URLSearchParams();
    for (const hidden of form[2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g))
      body.set(hidden[1]!, decodeHtml(hidden[2]!));
    for (const [name, value] of Object.entries(fields)) body.set(name, value);
    const action = new URL(decodeHtml(form[1]!), page.url).toString();
    return this.open(action, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  }
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  return (
    requestPath === cookiePath ||
    (requestPath.startsWith(cookiePath) && (cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/'))
  );
}

/** RFC 6265 §5.1.4: the request path up to its last slash. */
function defaultPath(path: string): string {
  const last = path.lastIndexOf('/');
  return last <= 0 ? '/' : path.slice(0, last);
}

/** The page's text as a person reads it: no tags, entities decoded, whitespace collapsed. */
export function visibleText(html: string): string {
  const withoutHead = html.replace(/<head>[\s\S]*?<\/head>/, '');
  return decodeHtml(withoutHead.replace(/<[^>]+>/g, ' '))
    .replace(/\s+/g, ' ')
    .trim();
}

/** The page's <title>. */
export function pageTitle(html: string): string {
  return decodeHtml(/<title>([^<]*)<\/title>/.exec(html)?.[1] ?? '');
}

/** "Sign in" at a store, through Behalf's sign-in form, back to the store's catalogue. */
export async function signInAtStore(
  web: WebBrowser,
  issuer: string,
  options: { email?: string; password?: string; store?: string } = {},
): Promise<Page> {
  const store = options.store ?? 'electronics';
  const login = await web.open(`${STOREFRONT}/${store}/signin`);
  if (!login.url.startsWith(issuer)) throw new Error(`sign-in did not reach Behalf: ${login.url} (${login.status})`);
  const back = await web.submit(login, '/login', {
    email: options.email ?? 'oleg@example.com',
    password: options.password ?? 'Customer-Demo-2026',
  });
  if (back.url !== `${STOREFRONT}/${store}/` || back.status !== 200)
    throw new Error(`sign-in ended at ${back.url} (${back.status}): ${visibleText(back.html).slice(0, 400)}`);
  return back;
}

export interface OnBehalfOptions {
  customer: string;
  store?: string;
  email?: string;
  password?: string;
  reason?: string;
  ticket?: string;
}

/** What the portal's "Login on behalf" starts: the entry URL, Behalf's re-authentication screen, back at the store. */
export async function loginOnBehalfAtStore(web: WebBrowser, issuer: string, options: OnBehalfOptions): Promise<Page> {
  const store = options.store ?? 'electronics';
  const reauth = await web.open(`${STOREFRONT}/${store}/on-behalf/start?customer=${options.customer}`);
  if (!reauth.url.startsWith(issuer) || !reauth.html.includes('Confirm it is you'))
    throw new Error(`no re-authentication screen: ${reauth.url} (${reauth.status})`);
  return web.submit(reauth, '/reauth', {
    email: options.email ?? 'support@example.com',
    password: options.password ?? 'Support-Demo-2026',
    reason: options.reason ?? 'Customer cannot complete checkout',
    ...(options.ticket ? { ticket: options.ticket } : {}),
  });
}

/** The on-behalf banner's headline (who acts for whom) as a person reads it, or undefined when the page has none. */
export function bannerText(page: Page): string | undefined {
  const found = /<div class="obo-banner[^"]*" role="status">[\s\S]*?<p>([\s\S]*?)<\/p>/.exec(page.html);
  return found ? visibleText(found[1]!) : undefined;
}

/** The banner's second line: the reason and the time left. */
export function bannerDetails(page: Page): string | undefined {
  const found = /<p class="obo-details">([\s\S]*?)<\/p>/.exec(page.html);
  return found ? visibleText(found[1]!) : undefined;
}

/** The product ids of a catalogue page's "Add to cart" forms. */
export function productIds(page: Page): string[] {
  return [...page.html.matchAll(/name="productId" value="([^"]+)"/g)].map((match) => match[1]!);
}

/**
 * A cookie-keeping HTTP "browser" for journeys across several apps (the
 * portal and Behalf): it follows redirects from one origin to another and
 * submits forms, like test/support/browser.ts does within Behalf alone.
 *
 * Apps are known by their public origin (what redirect URIs and links say,
 * e.g. http://localhost:4002) and reached at their real one (a test server on
 * a random port). Cookies are kept per host name, not per origin, because
 * that is what browsers do: apps on one host but different ports share
 * cookies, which is why each app needs cookie names of its own.
 */
import { decodeHtml, type Page } from './browser.js';

export type { Page } from './browser.js';

export class MultiOriginBrowser {
  private readonly jars = new Map<string, Map<string, string>>();

  /** `origins`: public origin → the origin it is really served at (the same for apps served where they say). */
  constructor(private readonly origins: Record<string, string>) {}

  private known(url: string): string | undefined {
    const origin = new URL(url).origin;
    return Object.prototype.hasOwnProperty.call(this.origins, origin) ? this.origins[origin] : undefined;
  }

  private jar(url: string): Map<string, string> {
    const host = new URL(url).hostname;
    let jar = this.jars.get(host);
    if (!jar) this.jars.set(host, (jar = new Map()));
    return jar;
  }

  /** The cookies this browser holds for `url`'s host. */
  cookies(url: string): Map<string, string> {
    return new Map(this.jar(url));
  }

  /** One request to a known app, addressed by its public URL. */
  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const real = this.known(url);
    if (!real) throw new Error(`no app is known at ${url}`);
    const target = new URL(url);
    const actual = `${real}${target.pathname}${target.search}`;
    const jar = this.jar(url);
    const headers = new Headers(init.headers);
    if (jar.size) headers.set('cookie', [...jar].map(([name, value]) => `${name}=${value}`).join('; '));
    const response = await fetch(actual, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const index = pair!.indexOf('=');
      const name = pair!.slice(0, index).trim();
      const value = pair!.slice(index + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(line) || /max-age=0/i.test(line) || value === '') jar.delete(name);
      else jar.set(name, value);
    }
    return response;
  }

  /** Follows redirects across the known apps; stops at the first URL outside them (e.g. the storefront). */
  async follow(url: string, init: RequestInit = {}): Promise<Page> {
    let current = url;
    let response = await this.request(current, init);
    for (let hops = 0; hops < 15 && response.status >= 300 && response.status < 400; hops += 1) {
      current = new URL(response.headers.get('location')!, current).toString();
      if (!this.known(current)) return { url: current, status: response.status, html: '', headers: response.headers };
      response = await this.request(current);
    }
    return { url: current, status: response.status, html: await response.text(), headers: response.headers };
  }

  /** Submits the form whose action contains `actionPart`, with the page's hidden fields plus `fields`. */
  async submit(page: Page, actionPart: string, fields: Record<string, string> = {}): Promise<Page> {
    const forms = [...page.html.matchAll(/<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)];
    const form = forms.find((match) => decodeHtml(match[1]!).includes(actionPart));
    if (!form) throw new Error(`no form with action containing ${actionPart} on ${page.url}:\n${page.html.slice(0, 800)}`);
    const body = new URLSearchParams();
    for (const hidden of form[2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g))
      body.set(hidden[1]!, decodeHtml(hidden[2]!));
    for (const [name, value] of Object.entries(fields)) body.set(name, value);
    const action = new URL(decodeHtml(form[1]!), page.url).toString();
    return this.follow(action, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded', referer: page.url },
    });
  }
}

/** The `href`s of links on a page whose text starts with `text`, decoded. */
export function linksNamed(page: Page, text: string): string[] {
  return [...page.html.matchAll(/<a\b[^>]*href="([^"]*)"[^>]*>([\s\S]*?)<\/a>/g)]
    .filter((match) =>
      match[2]!
        .replace(/<[^>]+>/g, '')
        .trim()
        .startsWith(text),
    )
    .map((match) => decodeHtml(match[1]!));
}

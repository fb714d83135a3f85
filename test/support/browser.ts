/**
 * A minimal cookie-keeping HTTP "browser" that follows redirects by hand, so
 * tests can drive Behalf's real sign-in forms over HTTP and stop at a client's
 * redirect URI (which nothing serves in these tests).
 */
export interface Page {
  url: string;
  status: number;
  html: string;
  headers: Headers;
}

export class HttpBrowser {
  private readonly cookies = new Map<string, string>();

  constructor(private readonly origin: string) {}

  private cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  private remember(headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair] = line.split(';');
      const index = pair!.indexOf('=');
      const name = pair!.slice(0, index).trim();
      const value = pair!.slice(index + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  /** One request; cookies only go to Behalf's own origin. */
  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (url.startsWith(this.origin)) headers.set('cookie', this.cookieHeader());
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    if (url.startsWith(this.origin)) this.remember(response.headers);
    return response;
  }

  /** Follows redirects within Behalf; stops at the first URL outside it (the client's redirect URI). */
  async follow(url: string, init: RequestInit = {}): Promise<Page> {
    let response = await this.request(url, init);
    let current = url;
    for (let hops = 0; hops < 10 && response.status >= 300 && response.status < 400; hops += 1) {
      current = new URL(response.headers.get('location')!, current).toString();
      if (!current.startsWith(this.origin)) return { url: current, status: response.status, html: '', headers: response.headers };
      response = await this.request(current);
    }
    return { url: current, status: response.status, html: await response.text(), headers: response.headers };
  }

  /** Submits the form whose action contains `actionPart`, with the page's hidden fields plus `fields`. */
  async submit(page: Page, actionPart: string, fields: Record<string, string>): Promise<Page> {
    const forms = [...page.html.matchAll(/<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)];
    const form = forms.find((match) => match[1]!.includes(actionPart));
    if (!form) throw new Error(`no form with action containing ${actionPart} on ${page.url}:\n${page.html.slice(0, 500)}`);
    const body = new URLSearchParams();
    for (const hidden of form[2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g))
      body.set(hidden[1]!, decodeHtml(hidden[2]!));
    for (const [name, value] of Object.entries(fields)) body.set(name, value);
    const action = new URL(decodeHtml(form[1]!), page.url).toString();
    return this.follow(action, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  }
}

export function decodeHtml(value: string): string {
  return value
    .replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>');
}

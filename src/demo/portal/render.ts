/**
 * Server-rendered pages (Eta, auto-escaping on: every value is HTML-escaped
 * unless a template deliberately writes `<%~`). Templates and the stylesheet
 * stay in src/demo/portal/ and are found from the project root, so the same
 * files serve both the TypeScript sources and the compiled dist/.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import type { Context } from 'koa';

function portalDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('portal: cannot find the project root (package.json)');
    dir = parent;
  }
  return join(dir, 'src', 'demo', 'portal');
}

export interface Nav {
  /** Signed-in name, if any. */
  user?: string;
  isAdmin?: boolean;
  /** Show "My on-behalf sessions" (staff who may log in on behalf, and admins). */
  mySessions?: boolean;
  /** For the sign-out form. */
  csrf?: string;
  flash?: string;
}

export class PortalRenderer {
  private readonly eta: Eta;
  readonly css: Buffer;

  constructor(cache = true) {
    const dir = portalDir();
    this.eta = new Eta({ views: join(dir, 'views'), autoEscape: true, cache, autoTrim: false });
    this.css = readFileSync(join(dir, 'assets', 'portal.css'));
  }

  /** Renders `template` inside the layout (title, skip link, navigation) as the response. */
  page(
    ctx: Context,
    status: number,
    template: string,
    data: { title: string; section?: string } & Record<string, unknown>,
    nav: Nav,
  ): void {
    const body = this.eta.render(template, data);
    ctx.status = status;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = this.eta.render('layout', { ...data, nav, body });
  }
}

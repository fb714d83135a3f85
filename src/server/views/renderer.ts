/**
 * Server-rendered pages through Eta with auto-escaping on. Templates stay in
 * src/ (found from the project root) so the same files serve src and dist.
 */
import { join } from 'node:path';
import { Eta } from 'eta';
import { projectRoot } from '../../../config/load.js';

export interface PageLayout {
  title: string;
}

export class Renderer {
  private readonly eta: Eta;

  constructor(cache = true) {
    this.eta = new Eta({ views: join(projectRoot(), 'src', 'server', 'views', 'templates'), autoEscape: true, cache, autoTrim: false });
  }

  /** Renders `template` inside the common layout. */
  page(template: string, data: PageLayout & Record<string, unknown>): string {
    const body = this.eta.render(template, data);
    return this.eta.render('layout', { ...data, body });
  }
}

/** What an interaction screen gets from the routes: render a page, and end the interaction. */
import type { Context } from 'koa';
import type { InteractionOutcome } from '../oidc/port.js';

export interface InteractionKit {
  html(ctx: Context, status: number, template: string, data: Record<string, unknown> & { title: string }): void;
  finish(ctx: Context, result: InteractionOutcome): Promise<void>;
}

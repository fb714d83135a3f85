/**
 * Admins: the audit trail viewer (search by actor, subject and type; older
 * pages by `next_before`), the hash chain's status, and the export, streamed
 * from Behalf through the portal so the browser never holds an access token.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import Router from '@koa/router';
import { PortalError } from '../behalf-api.js';
import { param, render, requireAdmin, type PortalDeps } from './deps.js';
import { when } from '../agent-sessions.js';

interface AuditEventJson {
  seq: number;
  occurred_at: string;
  type: string;
  actor: string | null;
  subject: string | null;
  client_id: string | null;
  session_id: string | null;
  ip: string | null;
  details: Record<string, unknown> | null;
  /** Names Behalf joins in for account ids (absent from older Behalfs). */
  actor_person?: { name: string } | null;
  subject_person?: { name: string } | null;
}
interface ChainStatus {
  intact: boolean;
  events: number;
  summary: string;
}

const PAGE_SIZE = 50;
/** An export of a long trail takes a while; the stream is cut after this. */
const EXPORT_TIMEOUT_MS = 10 * 60_000;

function query(values: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) if (value !== undefined && value !== '') search.set(key, String(value));
  return search.toString();
}

export function auditRoutes(deps: PortalDeps): Router {
  const router = new Router();

  router.get('/audit', async (ctx) => {
    const { user } = await requireAdmin(deps, ctx);
    const filters = { actor: param(ctx, 'actor'), subject: param(ctx, 'subject'), type: param(ctx, 'type') };
    const before = param(ctx, 'before');
    const status = await deps.api.get<ChainStatus>('/admin/audit/status', user.accessToken);
    let events: AuditEventJson[] = [];
    let nextBefore: string | undefined;
    let error: string | undefined;
    try {
      const page = await deps.api.get<{ events: AuditEventJson[]; next_before?: string }>('/admin/audit/events', user.accessToken, {
        ...filters,
        before,
        limit: String(PAGE_SIZE),
      });
      events = page.events;
      nextBefore = page.next_before;
    } catch (caught) {
      if (!(caught instanceof PortalError) || caught.status !== 400) throw caught;
      error = caught.message;
    }
    await render(
      deps,
      ctx,
      'audit',
      {
        title: 'Audit',
        section: 'audit',
        consoleUrl: `${deps.api.issuer}/console/audit`,
        ...filters,
        error,
        status,
        events: events.map((event) => ({
          ...event,
          time: when(event.occurred_at),
          detailsText: event.details && Object.keys(event.details).length ? JSON.stringify(event.details) : '',
        })),
        newest: before ? `/audit?${query(filters)}` : undefined,
        older: nextBefore ? `/audit?${query({ ...filters, before: nextBefore })}` : undefined,
      },
      error ? 400 : 200,
    );
  });

  router.get('/audit/export', async (ctx) => {
    const { user } = await requireAdmin(deps, ctx);
    const response = await deps.api.check(
      await deps.api.request('GET', '/admin/audit/export', user.accessToken, undefined, EXPORT_TIMEOUT_MS),
    );
    ctx.status = 200;
    ctx.type = response.headers.get('content-type') ?? 'application/x-ndjson';
    ctx.set('Content-Disposition', response.headers.get('content-disposition') ?? 'attachment; filename="behalf-audit.jsonl"');
    ctx.set('Cache-Control', 'no-store');
    ctx.body = response.body ? Readable.fromWeb(response.body as unknown as WebReadableStream) : '';
  });

  return router;
}

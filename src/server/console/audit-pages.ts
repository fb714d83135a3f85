/**
 * Console pages for the audit trail: events in words with who did what to
 * whom by name (ids on hover and in each event's details), filters by
 * person, type, client, session and time; the chain's status including the
 * external checkpoints; exports (the verifiable JSON lines of the whole
 * chain, or the filtered events as CSV).
 */
import { Readable } from 'node:stream';
import type Router from '@koa/router';
import type { Context } from 'koa';
import { AUDIT_EVENT_TYPES } from '../../audit/index.js';
import { queryString } from './admin-api.js';
import { errorField, param, type ConsoleKit } from './console-kit.js';
import * as format from './format.js';

interface EventParty {
  id: string;
  name: string;
  email: string | null;
  store: string | null;
}

interface EventJson {
  seq: number;
  id: string;
  occurred_at: string;
  type: string;
  actor: string | null;
  subject: string | null;
  client_id: string | null;
  session_id: string | null;
  ip: string | null;
  details: Record<string, unknown>;
  description: string;
  actor_person: EventParty | null;
  subject_person: EventParty | null;
}

const FILTERS = ['person', 'type', 'client', 'session', 'from', 'to'] as const;

/** A date or date-time typed in the form, read as UTC: `2026-12-05` or `2026-12-05T12:30`. */
function utc(value: string): string {
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value)) return `${value}Z`;
  return value;
}

function apiFilters(ctx: Context): Record<string, string> {
  const filters: Record<string, string> = {};
  for (const name of FILTERS) filters[name] = param(ctx, name);
  return filters;
}

function apiQuery(filters: Record<string, string>, extra: Record<string, string | undefined> = {}): string {
  return queryString({ ...filters, from: filters.from && utc(filters.from), to: filters.to && utc(filters.to), ...extra });
}

function csvCell(value: unknown): string {
  const text = value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  // A leading =, +, - or @ would be a formula in a spreadsheet (CSV injection): prefix it.
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function auditPages(router: Router, kit: ConsoleKit): void {
  router.get('/audit', async (ctx) => {
    const filters = apiFilters(ctx);
    const before = param(ctx, 'before');
    const answer = await kit
      .api(ctx)
      .get<{ events: EventJson[]; next_before?: string }>(
        `/admin/audit/events${apiQuery(filters, { before: before || undefined, limit: '100' })}`,
      );
    const error = answer.status === 200 ? undefined : answer.body.error_description;
    const clients =
      (await kit.api(ctx).get<{ clients: { client_id: string; client_name?: string }[] }>('/admin/clients')).body.clients ?? [];
    kit.render(ctx, 'audit', {
      // Suggestions for the type and client fields (datalists: any value may still be typed).
      typeChoices: [
        ...AUDIT_EVENT_TYPES,
        'on_behalf.*',
        'delegation.*',
        'auth.*',
        'token.*',
        'admin.*',
        'admin.account.*',
        'admin.permission.*',
        'admin.client.*',
        'resource.*',
      ],
      clientChoices: clients.map((client) => ({ id: client.client_id, name: client.client_name ?? client.client_id })),
      title: 'Audit trail',
      section: 'audit',
      status: error ? 400 : 200,
      filters,
      error,
      errorField: error ? (errorField(answer.body, [...FILTERS]) ?? 'person') : undefined,
      events: (answer.body.events ?? []).map((event) => ({
        ...event,
        when: format.when(event.occurred_at),
        detailsJson: JSON.stringify(event.details, null, 2),
      })),
      next: answer.body.next_before ? `/console/audit${apiQuery(filters, { before: answer.body.next_before })}` : undefined,
      csv: `/console/audit/export.csv${apiQuery(filters)}`,
    });
  });

  router.get('/audit/status', async (ctx) => {
    const answer = await kit.api(ctx).get<{
      intact: boolean;
      events: number;
      last_seq: number;
      last_checkpoint: { seq: number; created_at: string } | null;
      external_checkpoints: { source: string; count: number; last_seq: number | null } | null;
      problem: string | null;
      summary: string;
      warnings: string[];
    }>('/admin/audit/status');
    kit.render(ctx, 'audit-status', {
      title: 'Audit chain status',
      section: 'audit',
      status: answer.status === 200 ? 200 : 502,
      chain: answer.body,
    });
  });

  /** The whole chain as JSON lines, verifiable offline (`behalf audit verify --file`); the export itself is audited by the API. */
  router.get('/audit/export.jsonl', async (ctx) => {
    const response = await kit.api(ctx).raw('/admin/audit/export');
    if (response.status !== 200 || !response.body)
      return kit.render(ctx, 'message', {
        title: 'Export failed',
        section: 'audit',
        status: 502,
        message: `The admin API answered ${response.status}.`,
      });
    ctx.type = 'application/x-ndjson';
    ctx.set('Content-Disposition', response.headers.get('content-disposition') ?? 'attachment; filename="behalf-audit.jsonl"');
    ctx.body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream);
  });

  /** The filtered events (newest first, at most 500) as CSV, with the sentence describing each. */
  router.get('/audit/export.csv', async (ctx) => {
    const filters = apiFilters(ctx);
    const answer = await kit.api(ctx).get<{ events: EventJson[] }>(`/admin/audit/events${apiQuery(filters, { limit: '500' })}`);
    if (answer.status !== 200)
      return kit.render(ctx, 'message', {
        title: 'Export refused',
        section: 'audit',
        status: 400,
        message: answer.body.error_description ?? 'Bad filter.',
      });
    const header = [
      'seq',
      'occurred_at',
      'type',
      'description',
      'actor',
      'actor_name',
      'subject',
      'subject_name',
      'client_id',
      'session_id',
      'ip',
      'details',
    ];
    const rows = answer.body.events.map((event) =>
      [
        event.seq,
        event.occurred_at,
        event.type,
        event.description,
        event.actor,
        event.actor_person?.name,
        event.subject,
        event.subject_person?.name,
        event.client_id,
        event.session_id,
        event.ip,
        event.details,
      ]
        .map(csvCell)
        .join(','),
    );
    ctx.type = 'text/csv; charset=utf-8';
    ctx.attachment(`behalf-audit-${new Date().toISOString().slice(0, 10)}.csv`);
    ctx.body = [header.join(','), ...rows].join('\r\n') + '\r\n';
  });
}

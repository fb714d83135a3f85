/**
 * Admin API over the audit trail (for the portal): search, export (JSON
 * lines), the log's status, and proofs (an event's inclusion in a signed tree
 * head, the consistency of two heads: RFC 9162 §2.1.3, §2.1.4) that
 * `behalf audit verify-proof` checks offline. Admin role required; exports are audited.
 */
import { PassThrough } from 'node:stream';
import Router from '@koa/router';
import type { OidcPort } from '../oidc/port.js';
import type { AccountService } from '../../accounts/account-service.js';
import { auditEventToJson, describeVerification, verificationGaps, type AuditQuery } from '../../audit/index.js';
import { ProofUnavailableError, type AuditService } from '../audit-trail/audit-service.js';
import { requestMeta } from '../audit-trail/request-meta.js';
import type { Logger } from '../observability/logger.js';
import { requireStaffToken } from './bearer-auth.js';
import { parseAuditQuery, QueryError } from './audit-query.js';
import { eventNames, resolveAuditPeople } from './audit-people.js';
import type { PeopleDirectory } from './people-directory.js';
import type { StoreService } from '../../accounts/store-service.js';

export function auditAdminRoutes(deps: {
  oidc: OidcPort;
  accounts: AccountService;
  audit: AuditService;
  logger: Logger;
  people: PeopleDirectory;
  stores: StoreService;
}): Router {
  const router = new Router({ prefix: '/admin/audit' });
  router.use(requireStaffToken(deps.oidc, deps.accounts, 'admin'));
  router.use(async (ctx, next) => {
    ctx.set('Cache-Control', 'no-store');
    try {
      await next();
    } catch (error) {
      if (error instanceof ProofUnavailableError) {
        ctx.status = 404;
        ctx.body = { error: 'not_found', error_description: error.message };
        return;
      }
      if (!(error instanceof QueryError)) throw error;
      ctx.status = 400;
      ctx.body = { error: 'invalid_request', error_description: error.message };
    }
  });

  /**
   * `person` (actor or subject), `actor` and `subject` take an id, an email or a name; a filter
   * that names nobody (a person, a client, a session) is a 400 saying so, never an empty page.
   */
  router.get('/events', async (ctx) => {
    const query = await resolveAuditPeople(parseAuditQuery(ctx.query), deps.people);
    const page = await deps.audit.events.query(query);
    if (!page.events.length && query.before === undefined) await explainEmpty(query);
    const names = await eventNames(page.events, deps);
    ctx.body = {
      events: page.events.map((event) => ({
        ...auditEventToJson(event),
        description: names.describe(event),
        actor_person: names.party(event.actor),
        subject_person: names.party(event.subject),
      })),
      ...(page.nextBefore ? { next_before: page.nextBefore } : {}),
    };
  });

  async function explainEmpty(query: AuditQuery): Promise<void> {
    if (query.clientId && !(await deps.oidc.findClient(query.clientId).catch(() => undefined)))
      throw new QueryError(`client: there is no client “${query.clientId}”`);
    if (query.sessionId && !(await deps.audit.events.query({ sessionId: query.sessionId, limit: 1 })).events.length)
      throw new QueryError(`session: no event belongs to a session “${query.sessionId}”`);
  }

  router.get('/status', async (ctx) => {
    const result = await deps.audit.verify();
    ctx.body = {
      intact: result.ok,
      events: result.events,
      last_seq: result.lastSeq,
      last_checkpoint: result.lastCheckpoint
        ? { seq: result.lastCheckpoint.seq, created_at: result.lastCheckpoint.createdAt.toISOString() }
        : null,
      external_checkpoints: result.external
        ? { source: result.external.source, count: result.external.checkpoints, last_seq: result.external.lastSeq ?? null }
        : null,
      last_tree_head: result.log?.lastTreeHead
        ? {
            tree_size: result.log.lastTreeHead.treeSize,
            root_hash: result.log.lastTreeHead.rootHash,
            created_at: result.log.lastTreeHead.createdAt.toISOString(),
          }
        : null,
      missing_queue_ids: result.log?.missingQids ?? [],
      // Committed but not sequenced within the bound (MAX_PENDING_MS): `intact` is false.
      overdue_pending: result.log?.overdue
        ? {
            count: result.log.overdue.count,
            oldest_qid: result.log.overdue.oldestQid,
            oldest_queued_at: result.log.overdue.oldestQueuedAt.toISOString(),
          }
        : null,
      problem: result.problem ?? null,
      summary: describeVerification(result),
      // What `audit verify --strict` refuses: intact, but nothing outside the database vouches for it.
      warnings: verificationGaps(result),
    };
  });

  router.get('/proof/inclusion', async (ctx) => {
    const seq = sizeParameter(ctx.query, 'seq', true)!;
    ctx.body = await deps.audit.inclusionProof(seq, sizeParameter(ctx.query, 'tree_size', false));
  });

  router.get('/proof/consistency', async (ctx) => {
    const first = sizeParameter(ctx.query, 'first', true)!;
    ctx.body = await deps.audit.consistencyProof(first, sizeParameter(ctx.query, 'second', false));
  });

  router.get('/export', async (ctx) => {
    const principal = ctx.state.staff!;
    await deps.audit.record({
      type: 'admin.audit.exported',
      actor: principal.account.id,
      clientId: principal.clientId,
      ...requestMeta(ctx),
    });
    const stream = new PassThrough();
    ctx.type = 'application/x-ndjson';
    ctx.attachment(`behalf-audit-${new Date().toISOString().slice(0, 10)}.jsonl`);
    ctx.body = stream;
    deps.audit
      .export((line) => {
        if (!stream.write(`${line}\n`)) return new Promise<void>((resolve) => stream.once('drain', () => resolve()));
        return undefined;
      })
      .then(() => stream.end())
      .catch((error) => {
        deps.logger.error('audit export failed mid-stream', { error });
        stream.destroy(error as Error);
      });
  });

  return router;
}

/** A positive whole number given at most once (`seq`, `tree_size`, `first`, `second`). */
function sizeParameter(query: Record<string, string | string[] | undefined>, name: string, required: boolean): number | undefined {
  const value = query[name];
  if (value === undefined) {
    if (required) throw new QueryError(`${name} is required`);
    return undefined;
  }
  if (Array.isArray(value)) throw new QueryError(`${name} may be given once`);
  if (!/^[1-9]\d{0,15}$/.test(value) || !Number.isSafeInteger(Number(value)))
    throw new QueryError(`${name} must be a positive whole number`);
  return Number(value);
}

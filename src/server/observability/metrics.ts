/** Prometheus metrics (prom-client), one registry per app instance. */
import { Registry, Counter, Gauge, Histogram, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route'>;
  providerEvents: Counter<'event'>;
}

/** `auditPending`: the audit log's pending events (`AuditRepository.pending`), read at each scrape. */
export function createMetrics(sources: { auditPending?: () => Promise<{ count: number; oldestQueuedAt?: Date }> } = {}): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'behalf_' });
  const { auditPending } = sources;
  if (auditPending) {
    // Alert well below `audit verify`'s bound (MAX_PENDING_MS, 60 s): the sequencer places events within about a second.
    new Gauge({
      name: 'behalf_audit_oldest_pending_seconds',
      help: 'How long the oldest committed audit event has waited for the sequencer (0: none pending)',
      registers: [registry],
      async collect() {
        // An unreachable database must not fail the whole scrape: NaN says "unknown".
        const pending = await auditPending().catch(() => undefined);
        if (!pending) this.set(NaN);
        else this.set(pending.oldestQueuedAt ? Math.max(0, (Date.now() - pending.oldestQueuedAt.getTime()) / 1000) : 0);
      },
    });
  }
  return {
    registry,
    httpRequests: new Counter({
      name: 'behalf_http_requests_total',
      help: 'HTTP requests by method, route group and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'behalf_http_request_duration_seconds',
      help: 'HTTP request duration by method and route group',
      labelNames: ['method', 'route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    providerEvents: new Counter({
      name: 'behalf_oidc_events_total',
      help: 'oidc-provider events (tokens issued, errors, …)',
      labelNames: ['event'],
      registers: [registry],
    }),
  };
}

/** A bounded label for a path, so metrics never grow one series per id. */
export function routeGroup(path: string): string {
  if (path.startsWith('/interaction/')) return '/interaction';
  if (path.startsWith('/session/end')) return '/session/end';
  if (path.startsWith('/auth')) return '/auth';
  if (path.startsWith('/token'))
    return path.startsWith('/token/introspection')
      ? '/token/introspection'
      : path.startsWith('/token/revocation')
        ? '/token/revocation'
        : '/token';
  if (path.startsWith('/.well-known/')) return '/.well-known';
  if (['/jwks', '/me', '/healthz', '/readyz', '/metrics'].includes(path)) return path;
  if (path.startsWith('/assets/')) return '/assets';
  return 'other';
}

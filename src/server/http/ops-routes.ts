/** Operations endpoints: liveness, readiness, Prometheus metrics, static assets. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Router from '@koa/router';
import type { DataSource } from 'typeorm';
import { projectRoot } from '../../../config/load.js';
import type { Metrics } from '../observability/metrics.js';
import type { ReadinessCheck } from './rate-limits.js';

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** `checks`: dependencies besides the database that requests need (Redis for the rate limits, when configured). */
export function opsRoutes(
  dataSource: DataSource,
  metrics: Metrics,
  isShuttingDown: () => boolean,
  checks: readonly ReadinessCheck[] = [],
): Router {
  const router = new Router();
  const css = readFileSync(join(projectRoot(), 'src', 'server', 'views', 'assets', 'behalf.css'));

  router.get('/healthz', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });

  router.get('/readyz', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    if (isShuttingDown()) {
      ctx.status = 503;
      ctx.body = { status: 'shutting_down' };
      return;
    }
    const probes = [{ name: 'database', check: () => dataSource.query('SELECT 1') }, ...checks];
    const results = await Promise.all(
      probes.map((probe) =>
        withTimeout(
          Promise.resolve().then(() => probe.check()),
          2000,
        ).then(
          () => 'ok' as const,
          () => 'unreachable' as const,
        ),
      ),
    );
    const ready = results.every((result) => result === 'ok');
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ok' : 'unavailable', ...Object.fromEntries(probes.map((probe, i) => [probe.name, results[i]])) };
  });

  router.get('/metrics', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });

  router.get('/assets/behalf.css', (ctx) => {
    ctx.type = 'text/css';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = css;
  });

  return router;
}

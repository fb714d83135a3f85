/**
 * The load generator: a separate process (forked by run.ts) so autocannon's
 * CPU is not Behalf's event loop. Receives one scenario over IPC, runs it and
 * sends back the figures. Loopback only; stops itself after `seconds`.
 */
import autocannon from 'autocannon';

export interface LoadRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  /** One body per request, used round-robin (empty for GET). */
  bodies: string[];
  /** Authorization header values used round-robin (overrides headers.authorization), e.g. several customers' tokens. */
  authorizations?: string[];
}

export interface LoadJob {
  url: string;
  connections: number;
  seconds: number;
  request: LoadRequest;
}

export interface LoadResult {
  requests: number;
  requests_per_s: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  non2xx: number;
  socket_errors: number;
  timeouts: number;
  status_codes: Record<string, number>;
}

function run(job: LoadJob): Promise<LoadResult> {
  const { request } = job;
  if (!/^http:\/\/(127\.0\.0\.1|localhost)[:/]/.test(job.url)) throw new Error(`load generator refuses non-loopback ${job.url}`);
  let next = 0;
  let nextAuthorization = 0;
  const authorizations = request.authorizations ?? [];
  const latencies = new Float64Array(2_000_000);
  let recorded = 0;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: job.url,
        connections: job.connections,
        duration: job.seconds,
        timeout: 10,
        requests: [
          {
            method: request.method,
            path: request.path,
            headers: request.headers,
            setupRequest: (req) => {
              let out = req;
              if (authorizations.length > 0) {
                const authorization = authorizations[nextAuthorization % authorizations.length]!;
                nextAuthorization += 1;
                out = { ...out, headers: { ...out.headers, authorization } };
              }
              if (request.bodies.length === 0) return out;
              const body = request.bodies[next % request.bodies.length]!;
              next += 1;
              return { ...out, body };
            },
          },
        ],
      },
      (error, result) => {
        if (error) return reject(error);
        const codes: Record<string, number> = {};
        for (const [code, stats] of Object.entries(result.statusCodeStats ?? {})) codes[code] = stats.count ?? 0;
        const sorted = latencies.subarray(0, recorded).sort();
        const at = (q: number) => (recorded ? Number(sorted[Math.min(recorded - 1, Math.floor(recorded * q))]!.toFixed(2)) : 0);
        resolve({
          requests: result.requests.total,
          requests_per_s: result.requests.total / job.seconds,
          p50_ms: at(0.5),
          p95_ms: at(0.95),
          p99_ms: at(0.99),
          non2xx: result.non2xx,
          socket_errors: result.errors,
          timeouts: result.timeouts,
          status_codes: codes,
        });
      },
    );
    // autocannon's histogram has no p95: keep every response time (bounded).
    instance.on('response', (_client, _status, _bytes, responseTime) => {
      if (recorded < latencies.length) latencies[recorded++] = responseTime;
    });
    // A hard stop in case the server never answers.
    setTimeout(() => instance.stop(), (job.seconds + 15) * 1000).unref();
  });
}

process.once('message', (job: LoadJob) => {
  run(job)
    .then((result) => process.send!({ result }, () => process.exit(0)))
    .catch((error: unknown) => process.send!({ error: String(error) }, () => process.exit(1)));
});
setTimeout(() => process.exit(2), 5 * 60 * 1000).unref();

/**
 * The demo orders API as its own OS process for the bench, started the way
 * its README says (`node dist/src/demo/orders-api/main.js`, settings from the
 * environment), on its own database, talking to Behalf over HTTP only.
 * Every wait is bounded.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../../config/load.js';
import { freePort } from '../support/behalf-process.js';

export interface OrdersApiProcess {
  url: string;
  pid: number;
  output(): string;
  stop(graceMs?: number): Promise<void>;
}

export async function spawnOrdersApi(options: { issuer: string; databaseUrl: string; readyTimeoutMs?: number }): Promise<OrdersApiProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [join(projectRoot(), 'dist/src/demo/orders-api/main.js')], {
    cwd: projectRoot(),
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      ISSUER: options.issuer,
      ORDERS_DATABASE_URL: options.databaseUrl,
      ORDERS_HOST: '127.0.0.1',
      ORDERS_PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let ended = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => (ended = true));
  const stop = async (graceMs = 10_000) => {
    if (ended) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };

  const timeout = options.readyTimeoutMs ?? 60_000;
  const deadline = Date.now() + timeout;
  for (;;) {
    if (ended) throw new Error(`orders API process exited before it was ready:\n${output}`);
    const ready = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) }).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      await stop(2_000);
      throw new Error(`orders API process not ready within ${timeout} ms:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { url, pid: child.pid!, output: () => output, stop };
}

/** oidc-provider alone (oidc-provider-alone.ts) as its own OS process for the framework row; every wait is bounded. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../../config/load.js';
import { freePort } from '../support/behalf-process.js';

export interface FrameworkProcess {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export async function spawnFramework(timeoutMs = 30_000): Promise<FrameworkProcess> {
  const port = await freePort();
  // The same Node flags Behalf runs with in `npm start`.
  const child = spawn(
    process.execPath,
    ['--max-semi-space-size=16', '--max-old-space-size=1024', join(projectRoot(), 'dist/test/bench/oidc-provider-alone.js')],
    {
      cwd: projectRoot(),
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`oidc-provider alone not ready within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-10_000);
      if (output.includes('ready\n')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    void exited.then(() => reject(new Error(`oidc-provider alone exited:\n${output}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

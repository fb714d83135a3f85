/** Runs one scenario in a forked load-generator process while sampling this (Behalf's) process's RSS. */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LoadJob, LoadResult } from './load.js';

const LOAD_SCRIPT = fileURLToPath(new URL('./load.js', import.meta.url));

export async function drive(job: LoadJob): Promise<{ result: LoadResult; rss_mb: number }> {
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 200);
  try {
    const result = await new Promise<LoadResult>((resolve, reject) => {
      const child = fork(LOAD_SCRIPT, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      const killer = setTimeout(() => child.kill('SIGKILL'), (job.seconds + 30) * 1000);
      let settled = false;
      child.once('message', (message: { result?: LoadResult; error?: string }) => {
        settled = true;
        if (message.result) resolve(message.result);
        else reject(new Error(`load generator: ${message.error}`));
      });
      child.once('error', reject);
      child.once('exit', (code) => {
        clearTimeout(killer);
        if (!settled) reject(new Error(`load generator exited with ${code} before reporting`));
      });
      child.send(job);
    });
    return { result, rss_mb: Math.round(peak / 1024 / 1024) };
  } finally {
    clearInterval(sampler);
  }
}

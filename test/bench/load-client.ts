/**
 * Runs one scenario in a forked load-generator process while sampling the
 * resident memory of the processes under test (Behalf, and the orders API
 * when it runs) from outside: /proc/<pid>/status VmRSS, or `ps` where there
 * is no /proc. The peak per process is what a scenario reports.
 */
import { execFileSync, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LoadJob, LoadResult } from './load.js';

const LOAD_SCRIPT = fileURLToPath(new URL('./load.js', import.meta.url));
const SAMPLE_MS = 200;

/** Resident set size of `pid` in bytes, or undefined when the process is gone. */
export function rssOf(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (match) return Number(match[1]) * 1024;
  } catch {
    // No /proc (macOS) or the process ended: ask ps.
  }
  try {
    const kb = Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim());
    return Number.isFinite(kb) && kb > 0 ? kb * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export type Watched = Record<string, number>;

/** Samples the RSS of each watched pid every 200 ms until `stop()`, which returns the peaks in MB (0: never seen). */
export function sampleRss(watched: Watched): { stop(): Record<string, number> } {
  const peaks: Record<string, number> = Object.fromEntries(Object.keys(watched).map((name) => [name, 0]));
  const sample = () => {
    for (const [name, pid] of Object.entries(watched)) peaks[name] = Math.max(peaks[name]!, rssOf(pid) ?? 0);
  };
  sample();
  const timer = setInterval(sample, SAMPLE_MS);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return Object.fromEntries(Object.entries(peaks).map(([name, bytes]) => [name, Math.round(bytes / 1024 / 1024)]));
    },
  };
}

export async function drive(job: LoadJob, watched: Watched): Promise<{ result: LoadResult; rss_mb: Record<string, number> }> {
  const sampler = sampleRss(watched);
  let rss: Record<string, number> | undefined;
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
    rss = sampler.stop();
    return { result, rss_mb: rss };
  } finally {
    if (!rss) sampler.stop();
  }
}

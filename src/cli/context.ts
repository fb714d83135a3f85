/**
 * What every CLI command shares: where output goes, the configuration, and a
 * connection to the database that is always closed, whatever happens.
 * The configuration, logging and server code load on first use, not at
 * start-up, so `--help` and usage errors answer without them.
 */
import { Writable } from 'node:stream';
import { userInfo } from 'node:os';
import type { Config } from '../../config/load.js';
import type { AuditEventInput } from '../audit/index.js';
import type { Logger } from '../server/observability/logger.js';
import type { Services } from '../server/system.js';

export interface Writer {
  write(text: string): unknown;
}

export interface CliIo {
  stdout: Writer;
  stderr: Writer;
}

export interface CliRunOptions {
  /** The environment the configuration is read from (tests pass their own; default process.env). */
  env?: NodeJS.ProcessEnv;
}

const LEVELS = ['silent', 'error', 'warn', 'info', 'http', 'debug'] as const;

/**
 * The CLI prints results, not logs: without LOG_LEVEL it keeps winston at
 * `warn` (or quieter, if the configuration says so) so tables stay readable.
 */
export function cliLogLevel(config: Config, env: NodeJS.ProcessEnv): string {
  if (env.LOG_LEVEL) return config.log.level;
  const configured = LEVELS.indexOf(config.log.level);
  return LEVELS[Math.min(configured, LEVELS.indexOf('warn'))]!;
}

/** One short line per log entry on stderr, so stdout carries only the command's output. */
async function cliLogger(level: string, stderr: Writer): Promise<Logger> {
  const [{ default: winston }, { redact }] = await Promise.all([import('winston'), import('../server/observability/logger.js')]);
  const stream = new Writable({
    write(chunk, _encoding, done) {
      stderr.write(String(chunk));
      done();
    },
  });
  return winston.createLogger({
    level: level === 'silent' ? 'error' : level,
    silent: level === 'silent',
    format: winston.format.printf(({ level: entryLevel, message, ...meta }) => {
      const details = Object.keys(meta).length ? ` ${JSON.stringify(redact(meta))}` : '';
      return `behalf: ${entryLevel}: ${String(message)}${details}`;
    }),
    transports: [new winston.transports.Stream({ stream })],
  });
}

export class CliContext {
  constructor(
    readonly io: CliIo,
    readonly env: NodeJS.ProcessEnv,
  ) {}

  /** Writes lines to stdout. */
  out(...lines: string[]): void {
    for (const line of lines) this.io.stdout.write(`${line}\n`);
  }

  json(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** Who the audit trail names for CLI changes: the operating-system user. */
  actor(): string {
    try {
      return `cli:${userInfo().username}`;
    } catch {
      return 'cli:unknown';
    }
  }

  /** Records an `admin.*` event for a change made through the CLI. */
  async recordAdmin(services: Services, event: Omit<AuditEventInput, 'actor'>): Promise<void> {
    await services.audit.record({ ...event, actor: this.actor() });
  }

  async config(overrides?: Record<string, unknown>): Promise<Config> {
    const { loadConfig } = await import('../../config/load.js');
    return loadConfig({ env: this.env, overrides });
  }

  /**
   * Connects (DATABASE_URL, or the embedded PostgreSQL), applies pending
   * migrations unless told not to, runs `work`, and closes the database
   * (stopping the embedded server if this process started it).
   */
  async withServices<T>(work: (services: Services) => Promise<T>, options: { config?: Config; migrate?: boolean } = {}): Promise<T> {
    const base = options.config ?? (await this.config());
    const config = options.migrate === false ? { ...base, database: { ...base.database, migrateOnStart: false } } : base;
    const { createServices } = await import('../server/system.js');
    const services = await createServices(config, await cliLogger(cliLogLevel(config, this.env), this.io.stderr));
    try {
      return await work(services);
    } finally {
      await services.database.close();
    }
  }
}

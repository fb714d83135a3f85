/** `seed --demo`: the demo data the README describes. */
// Server code is imported inside each action, so help stays fast (see index.ts).
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';
import { examples } from '../output.js';

export function registerSeed(program: Command, cli: CliContext): void {
  const command = program
    .command('seed')
    .description('load the demo data (idempotent: what exists is left as it is)')
    .option('--demo', 'demo stores, staff, customers, clients and the orders API resource server (see README)')
    .option('--json', 'print the summary as JSON')
    .action(async (options: { demo?: boolean; json?: boolean }) => {
      if (!options.demo) throw new CliError('nothing to seed: pass --demo');
      const config = await cli.config();
      // The demo secrets and passwords are public; the server refuses to start with them in production.
      if (config.env === 'production') throw new CliError('refusing to seed the public demo data in production');
      const { seedDemo } = await import('../../server/seed/seed-demo.js');
      const summary = await cli.withServices((services) => seedDemo(services), { config });
      if (options.json) return cli.json(summary);
      cli.out(
        'demo data seeded:',
        `  stores:           ${summary.stores} (created or updated)`,
        `  staff:            ${summary.staff} new`,
        `  contacts:         ${summary.contacts} new`,
        `  customer logins:  ${summary.accounts} new`,
        `  resource servers: ${summary.resourceServers} (created or updated)`,
        `  clients:          ${summary.clients} created (existing ones are left as they are)`,
        'Sign-ins and client secrets: see README.md ("Demo data").',
      );
    });
  examples(command, 'seed --demo', 'seed --demo --json');
}

/** `migrate`: apply pending migrations and say which. */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { examples } from '../output.js';

export function registerMigrate(program: Command, cli: CliContext): void {
  const command = program
    .command('migrate')
    .description(
      'apply pending database migrations as the owner (DATABASE_MIGRATION_URL, else DATABASE_URL, or the embedded PostgreSQL) and grant the runtime role its privileges',
    )
    .action(async () => {
      // Connect without the automatic migration so this command can report what it applied.
      const applied = await cli.withServices((services) => services.database.migrate(), { migrate: false });
      if (applied.length === 0) cli.out('database schema is up to date');
      else cli.out(`applied ${applied.length} migration(s):`, ...applied.map((name) => `  ${name}`));
    });
  examples(
    command,
    'migrate',
    'DATABASE_MIGRATION_URL=postgres://behalf_owner@db.internal/behalf DATABASE_URL=postgres://behalf_runtime@db.internal/behalf npm run cli -- migrate',
    'npm run migrate   # the same, as its own script',
  );
}

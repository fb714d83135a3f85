/** `audit …`: search, export, verify and seal the audit trail. */
// Server code is imported inside each action, so help stays fast (see index.ts).
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Command } from 'commander';
import type { AuditQuery, ExternalCheckpoints, VerifyResult } from '../../audit/index.js';
import type { ExternalTreeHeads } from '../../server/audit-trail/audit-service.js';
import type { CliContext } from '../context.js';
import { CliError, SilentExit } from '../errors.js';
import { examples, table, when } from '../output.js';
import { integerIn } from '../parse.js';
// Light (no database code): the cursor is checked while the options are parsed.
import { parseAuditCursor } from '../../audit/repository.js';
import { registerProofs } from './audit-proofs.js';

/** A paging cursor (`q1234`, `s56`), checked here so a typo is a usage error rather than a failed query. */
function cursor(value: string): string {
  try {
    parseAuditCursor(value);
  } catch {
    throw new CliError(`not a paging cursor: ${value} (use the one printed after the previous page, such as q1234)`);
  }
  return value;
}

function isoDate(value: string): Date {
  const parsed = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(parsed.getTime())) throw new CliError(`not an ISO 8601 date or time: ${value}`);
  return parsed;
}

/**
 * The external checkpoints to hold the chain to: the copies named with
 * --checkpoints (an auditor's folder, a checkpoint file, earlier exports),
 * else the configured folder; undefined when there is neither.
 */
async function externalCheckpoints(cli: CliContext, table: string, paths: string[] | undefined): Promise<ExternalCheckpoints | undefined> {
  const [{ describeSources, readCheckpointCopies }, { externalCheckpointArchive }] = await Promise.all([
    import('../../audit/index.js'),
    import('../../server/audit-trail/external-checkpoint-archive.js'),
  ]);
  if (paths?.length) return { source: describeSources(paths), checkpoints: await readCheckpointCopies(paths, table) };
  const store = externalCheckpointArchive(await cli.config(), table);
  return store && { source: store.location, checkpoints: await store.readAll() };
}

/** Signed tree heads kept outside the database: from --checkpoints copies, else the configured folder. */
async function externalTreeHeads(cli: CliContext, table: string, paths: string[] | undefined): Promise<ExternalTreeHeads | undefined> {
  const [{ describeSources, readTreeHeadCopies }, { externalTreeHeadArchive }] = await Promise.all([
    import('../../audit/index.js'),
    import('../../server/audit-trail/external-checkpoint-archive.js'),
  ]);
  const asHeads = (list: { seq: number; hash: string; createdAt: Date; jws: string }[]) =>
    list.map((head) => ({ treeSize: head.seq, rootHash: head.hash, createdAt: head.createdAt, jws: head.jws }));
  if (paths?.length) {
    const heads = asHeads(await readTreeHeadCopies(paths, table));
    return { source: describeSources(paths), heads };
  }
  const store = externalTreeHeadArchive(await cli.config(), table);
  return store && { source: store.location, heads: asHeads(await store.readAll()) };
}

export function registerAudit(program: Command, cli: CliContext): void {
  const group = program.command('audit').description('the append-only, hash-chained audit trail');
  examples(
    group,
    'audit query --type "auth.*" --limit 20',
    'audit export --output audit.jsonl',
    'audit verify',
    'audit verify --file audit.jsonl',
    'audit checkpoint',
    'audit prove 1234 --output proof.json',
    'audit verify-proof proof.json --keys jwks.json',
  );

  const query = group
    .command('query')
    .description('search events, newest first')
    .option('--actor <id>', 'who did it (account id, client:<id>, cli:<user>, system)')
    .option('--subject <id>', 'whom it was done to (account id)')
    .option('--session <id>', 'session id')
    .option('--client <id>', 'client id')
    .option('--type <type>', 'event type, or a prefix such as "auth.*"')
    .option('--from <time>', 'at or after this ISO 8601 time', isoDate)
    .option('--to <time>', 'before this ISO 8601 time', isoDate)
    .option(
      '--before <cursor>',
      'the next page: the cursor the previous page ended with (printed after it, or next_before in --json)',
      cursor,
    )
    .option('--limit <n>', 'how many, 1-500 (default 50)', integerIn(1, 500))
    .option('--json', 'print JSON')
    .action(
      async (options: {
        actor?: string;
        subject?: string;
        session?: string;
        client?: string;
        type?: string;
        from?: Date;
        to?: Date;
        before?: string;
        limit?: number;
        json?: boolean;
      }) => {
        const { auditEventToJson } = await import('../../audit/index.js');
        const filter: AuditQuery = {
          actor: options.actor,
          subject: options.subject,
          sessionId: options.session,
          clientId: options.client,
          type: options.type,
          from: options.from,
          to: options.to,
          before: options.before,
          limit: options.limit,
        };
        const page = await cli.withServices((services) => services.audit.events.query(filter));
        if (options.json) return cli.json({ events: page.events.map(auditEventToJson), next_before: page.nextBefore ?? null });
        cli.out(
          ...table(
            ['SEQ', 'TIME', 'TYPE', 'ACTOR', 'SUBJECT', 'CLIENT', 'DETAILS'],
            page.events.map((event) => [
              event.seq,
              when(event.occurredAt),
              event.type,
              event.actor,
              event.subject,
              event.clientId,
              JSON.stringify(event.details),
            ]),
          ),
        );
        if (page.nextBefore) cli.out(`more: audit query --before ${page.nextBefore} …`);
      },
    );
  examples(query, 'audit query --subject 3f1c…', 'audit query --type "token.*" --from 2026-11-01 --json');

  const exportCommand = group
    .command('export')
    .description('write the whole chain as JSON lines (header with public keys, checkpoints, events), verifiable offline')
    .option('--output <file>', 'write to this file instead of stdout')
    .action(async (options: { output?: string }) => {
      const file = options.output ? createWriteStream(options.output, { flags: 'wx', mode: 0o600 }) : undefined;
      if (file)
        await once(file, 'open').catch((error: Error) => {
          throw new CliError(`cannot create ${options.output}: ${error.message}`);
        });
      const write = async (line: string) => {
        if (!file) return void cli.io.stdout.write(`${line}\n`);
        if (!file.write(`${line}\n`)) await once(file, 'drain');
      };
      const count = await cli.withServices(async (services) => {
        await services.audit.record({
          type: 'admin.audit.exported',
          actor: cli.actor(),
          details: { destination: options.output ? 'file' : 'stdout' },
        });
        return services.audit.export(write);
      });
      if (file) {
        file.end();
        await once(file, 'finish');
        cli.io.stderr.write(`exported ${count} events to ${options.output}\n`);
      }
    });
  examples(exportCommand, 'audit export --output audit-2026-11.jsonl', 'audit export | gzip > audit.jsonl.gz');

  const verify = group
    .command('verify')
    .description(
      'walk the chain and hold it to its signed checkpoints, those kept outside the database included; exits 1 at the first broken link, or when a committed event waited more than 60 s for its seq (MAX_PENDING_MS)',
    )
    .option('--file <export>', 'verify an export file offline instead of the database')
    .option(
      '--checkpoints <path...>',
      'external checkpoints to use instead of the configured folder: a copy of that folder, a checkpoint file, or earlier exports',
    )
    .option(
      '--strict',
      'exit 2 when nothing outside the database vouches for an intact chain (no external checkpoints, or no checkpoint at all)',
    )
    .action(async (options: { file?: string; checkpoints?: string[]; strict?: boolean }) => {
      const [{ describeVerification, jwksCheckpointVerifier, readExport, verificationGaps, verifyChain }, { BEHALF_AUDIT_TABLE }] =
        await Promise.all([import('../../audit/index.js'), import('../../server/audit-trail/audit-service.js')]);
      let verdict: VerifyResult;
      if (options.file) {
        const parsed = await readExport(options.file);
        const external = await externalCheckpoints(cli, parsed.header.table, options.checkpoints);
        const { jwksTreeHeadVerifier } = await import('../../audit/index.js');
        const outsideHeads = await externalTreeHeads(cli, parsed.header.table, options.checkpoints);
        verdict = await verifyChain(
          parsed.header.table,
          parsed.events,
          parsed.checkpoints,
          jwksCheckpointVerifier(parsed.header.keys, parsed.header.issuer),
          external,
          {
            heads: parsed.treeHeads,
            ...(outsideHeads ? { external: outsideHeads } : {}),
            verify: jwksTreeHeadVerifier(parsed.header.keys, parsed.header.issuer),
          },
        );
      } else {
        const external = options.checkpoints && (await externalCheckpoints(cli, BEHALF_AUDIT_TABLE, options.checkpoints));
        const outsideHeads = options.checkpoints && (await externalTreeHeads(cli, BEHALF_AUDIT_TABLE, options.checkpoints));
        // Without --checkpoints the service reads its configured stores itself.
        verdict = await cli.withServices((services) => services.audit.verify(external, outsideHeads));
      }
      const gaps = verificationGaps(verdict);
      cli.out(describeVerification(verdict), ...gaps.map((gap) => `warning: ${gap}`));
      if (!verdict.ok) throw new SilentExit(1);
      if (options.strict && gaps.length > 0) throw new SilentExit(2);
    });
  examples(
    verify,
    'audit verify --strict',
    'audit verify --checkpoints /mnt/worm/behalf-checkpoints',
    'audit verify --file audit.jsonl --checkpoints last-month.jsonl',
  );

  const checkpoint = group
    .command('checkpoint')
    .description('sequence what is pending and sign a tree head over the log now (the sequencer does this every second on its own)')
    .action(async () => {
      const { ensureSigningKeys } = await import('../../server/keys/key-store.js');
      const sealed = await cli.withServices(async (services) => {
        // A database no server has started on yet has no signing key: make one, as a start would.
        await ensureSigningKeys(services.dataSource, services.sealer);
        return services.audit.checkpoint();
      });
      if (!sealed) return cli.out('the audit trail is empty: nothing to seal');
      cli.out(`tree head of size ${sealed.treeSize} (root ${sealed.rootHash}) signed ${when(sealed.createdAt)}`);
    });
  examples(checkpoint, 'audit checkpoint');

  registerProofs(group, cli);
}

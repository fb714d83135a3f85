/** `sessions …`: on-behalf sessions: list, end one, end all of an agent (kill switch). */
// Server code is imported inside each action, so help stays fast (see index.ts).
import type { Command } from 'commander';
import type { OnBehalfRepository, SessionView } from '../../server/on-behalf/on-behalf-repository.js';
import type { Services } from '../../server/system.js';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';
import { examples, table, when } from '../output.js';
import { integerIn } from '../parse.js';

async function sessionsOf(services: Services): Promise<OnBehalfRepository> {
  const [{ OnBehalfRepository }, { sqlGrants }] = await Promise.all([
    import('../../server/on-behalf/on-behalf-repository.js'),
    import('../../server/on-behalf/sql-grants.js'),
  ]);
  return new OnBehalfRepository(services.dataSource, services.audit, sqlGrants(services.dataSource));
}

function asJson(session: SessionView): Record<string, unknown> {
  return {
    id: session.id,
    agent: session.agentId,
    customer: session.customerId,
    client_id: session.clientId,
    reason: session.reason,
    ticket: session.ticket,
    started_at: session.startedAt,
    expires_at: session.expiresAt,
    ended_at: session.endedAt,
    ended_by: session.endedBy,
    end_reason: session.endReason,
  };
}

export function registerSessions(program: Command, cli: CliContext): void {
  const group = program.command('sessions').description('on-behalf sessions (login on behalf): list and end them');
  examples(group, 'sessions list --active', 'sessions end <session id>', 'sessions end-all support@example.com');

  const list = group
    .command('list')
    .description('list on-behalf sessions, newest first')
    .option('--agent <account>', 'only this agent (id or email)')
    .option('--customer <account>', 'only this customer (id, or email with --store)')
    .option('--store <slug>', 'store of the customer email')
    .option('--active', 'only sessions still running')
    .option('--limit <n>', 'how many, 1-500 (default 50)', integerIn(1, 500))
    .option('--json', 'print JSON')
    .action(async (options: { agent?: string; customer?: string; store?: string; active?: boolean; limit?: number; json?: boolean }) => {
      const { resolveAccount } = await import('../account-lookup.js');
      const sessions = await cli.withServices(async (services) => {
        const agentId = options.agent ? (await resolveAccount(services, options.agent)).id : undefined;
        const customerId = options.customer ? (await resolveAccount(services, options.customer, options.store)).id : undefined;
        return (await sessionsOf(services)).list({ agentId, customerId, active: options.active ? true : undefined, limit: options.limit });
      });
      if (options.json) return cli.json(sessions.map(asJson));
      cli.out(
        ...table(
          ['ID', 'STARTED', 'EXPIRES', 'ENDED', 'WHY', 'AGENT', 'CUSTOMER', 'CLIENT', 'REASON'],
          sessions.map((s) => [
            s.id,
            when(s.startedAt),
            when(s.expiresAt),
            when(s.endedAt),
            s.endReason,
            s.agentId,
            s.customerId,
            s.clientId,
            s.reason,
          ]),
        ),
      );
    });
  examples(list, 'sessions list --active', 'sessions list --agent support@example.com --json');

  const end = group
    .command('end')
    .description('end one on-behalf session now: its tokens stop working (opaque at once, JWTs at the next status check)')
    .argument('<session>', 'session id (the obo_sid claim)')
    .action(async (id: string) => {
      const session = await cli.withServices(async (services) => {
        const sessions = await sessionsOf(services);
        const found = await sessions.session(id);
        if (!found) throw new CliError(`no on-behalf session ${id}`);
        return (await sessions.endSession(id, cli.actor(), 'ended_by_admin'))!;
      });
      cli.out(session.endedNow ? `session ${id} ended` : `session ${id} had already ended (${session.endReason ?? 'expired'})`);
    });
  examples(end, 'sessions end 0f6b2c9e-…');

  const endAll = group
    .command('end-all')
    .description('kill switch: end every active on-behalf session of an agent')
    .argument('<agent>', 'agent account id or email')
    .action(async (reference: string) => {
      const { resolveAccount } = await import('../account-lookup.js');
      const { count, username } = await cli.withServices(async (services) => {
        const agent = await resolveAccount(services, reference);
        return {
          count: await (await sessionsOf(services)).endAgentSessions(agent.id, cli.actor(), 'kill_switch'),
          username: agent.username,
        };
      });
      cli.out(`ended ${count} active on-behalf session(s) of ${username}`);
    });
  examples(endAll, 'sessions end-all support@example.com');
}

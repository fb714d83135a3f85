/**
 * `permissions …`: store-scoped permissions of staff accounts. Today there is
 * one, security:loginOnBehalf: who holds it for a store may act as that
 * store's customers.
 */
// Server code is imported inside each action, so help stays fast (see index.ts).
import { Argument, Option, type Command } from 'commander';
import type { AccountView } from '../../accounts/account-service.js';
import type { Permission } from '../../accounts/entities/index.js';
import { isStaff } from '../../accounts/sign-in-policy.js';
import type { Services } from '../../server/system.js';
import { PERMISSIONS } from '../choices.js';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';
import { examples, table, when } from '../output.js';
import { storeSlug } from '../parse.js';

interface ScopeOptions {
  store?: string;
  allStores?: boolean;
  reason?: string;
}

/** Permissions belong to staff: `<account>` is looked up among staff (or by id), never in a store. */
async function staffAccount(services: Services, reference: string): Promise<AccountView> {
  const [{ AccountError }, { resolveAccount }] = await Promise.all([
    import('../../accounts/account-service.js'),
    import('../account-lookup.js'),
  ]);
  const account = await resolveAccount(services, reference);
  if (account.storeId || !isStaff(account.roles)) {
    throw new AccountError(`${account.username} is not a staff account (support or admin, no store); only staff can hold permissions`);
  }
  return account;
}

/** The store the grant covers: one store (its id) or every store (null). */
async function grantScope(services: Services, options: ScopeOptions): Promise<{ storeId: string | null; label: string; name: string }> {
  if (!options.store && !options.allStores) throw new CliError('say which stores: --store <slug> or --all-stores');
  if (options.allStores) return { storeId: null, label: 'all stores', name: 'all stores' };
  const { resolveStore } = await import('../account-lookup.js');
  const store = await resolveStore(services, options.store!);
  return { storeId: store.id, label: `store ${store.slug}`, name: store.name };
}

function scopeOptions(command: Command): Command {
  return command
    .argument('<account>', 'staff account id or email')
    .addArgument(new Argument('<permission>', 'the permission').choices(PERMISSIONS))
    .option('--store <slug>', 'for the customers of this store', storeSlug)
    .addOption(new Option('--all-stores', 'for the customers of every store, present and future').conflicts('store'))
    .option('--reason <text>', 'why (recorded in the audit trail)');
}

export function registerPermissions(program: Command, cli: CliContext): void {
  const group = program.command('permissions').description('store-scoped permissions of staff (security:loginOnBehalf)');
  examples(group, 'permissions list support@example.com', 'permissions grant viewer@example.com security:loginOnBehalf --store books');

  const grant = scopeOptions(group.command('grant').description('grant a permission for one store or all stores')).action(
    async (reference: string, permission: Permission, options: ScopeOptions) => {
      const { account, label } = await cli.withServices(async (services) => {
        const account = await staffAccount(services, reference);
        const { storeId, label, name } = await grantScope(services, options);
        await services.accounts.grantPermission(account.id, permission, storeId);
        await cli.recordAdmin(services, {
          type: 'admin.permission.granted',
          subject: account.id,
          details: { permission, store: name, store_id: storeId, reason: options.reason ?? null },
        });
        return { account, label };
      });
      cli.out(`${account.username} holds ${permission} for ${label}`);
    },
  );
  examples(
    grant,
    'permissions grant viewer@example.com security:loginOnBehalf --store books',
    'permissions grant admin@example.com security:loginOnBehalf --all-stores',
  );

  const revoke = scopeOptions(group.command('revoke').description('revoke a permission for one store, or the all-stores grant')).action(
    async (reference: string, permission: Permission, options: ScopeOptions) => {
      const { account, label, removed, remaining, ended } = await cli.withServices(async (services) => {
        const account = await staffAccount(services, reference);
        const { storeId, label, name } = await grantScope(services, options);
        const removed = await services.accounts.revokePermission(account.id, permission, storeId);
        if (removed)
          await cli.recordAdmin(services, {
            type: 'admin.permission.revoked',
            subject: account.id,
            details: { permission, store: name, store_id: storeId, reason: options.reason ?? null },
          });
        const held = (await services.accounts.permissions(account.id)).filter((grant) => grant.permission === permission);
        const allStores = held.some((grant) => grant.storeId === null);
        const ended =
          removed && permission === 'security:loginOnBehalf' ? await endSessionsBeyond(services, account.id, held, cli.actor()) : 0;
        return { account, label, removed, remaining: storeId !== null && allStores, ended };
      });
      cli.out(
        removed
          ? `${account.username} no longer holds ${permission} for ${label}`
          : `${account.username} did not hold ${permission} for ${label}; nothing changed`,
      );
      // Revoking one store does not narrow an all-stores grant: say so rather than let the operator believe it did.
      if (remaining) cli.out(`note: ${account.username} still holds ${permission} for all stores (revoke it with --all-stores)`);
      if (ended) cli.out(`${ended} running on-behalf session(s) in that store ended; their tokens are revoked`);
    },
  );
  examples(
    revoke,
    'permissions revoke support@example.com security:loginOnBehalf --store electronics',
    'permissions revoke admin@example.com security:loginOnBehalf --all-stores',
  );

  const list = group
    .command('list')
    .description("list an account's permissions")
    .argument('<account>', 'account id or email (staff first)')
    .option('--json', 'print JSON')
    .action(async (reference: string, options: { json?: boolean }) => {
      const { accountDetails, resolveAccount } = await import('../account-lookup.js');
      const details = await cli.withServices(async (services) => accountDetails(services, await resolveAccount(services, reference)));
      if (options.json) return cli.json({ account: details.id, username: details.username, permissions: details.permissions });
      if (details.permissions.length === 0) return cli.out(`${details.username} holds no permissions`);
      cli.out(
        ...table(
          ['PERMISSION', 'STORE', 'GRANTED'],
          details.permissions.map((held) => [held.permission, held.store ?? 'all stores', when(held.grantedAt)]),
        ),
      );
    });
  examples(list, 'permissions list support@example.com', 'permissions list books-support@example.com --json');
}

/**
 * Login on behalf revoked for a store: the agent's running sessions there end now (and with them
 * every token they issued, through the token status list), not at their next exchange.
 */
async function endSessionsBeyond(services: Services, agentId: string, held: { storeId: string | null }[], by: string): Promise<number> {
  const [{ OnBehalfRepository }, { sqlGrants }] = await Promise.all([
    import('../../server/on-behalf/on-behalf-repository.js'),
    import('../../server/on-behalf/sql-grants.js'),
  ]);
  return new OnBehalfRepository(services.dataSource, services.audit, sqlGrants(services.dataSource)).endSessionsOutside(agentId, held, by);
}

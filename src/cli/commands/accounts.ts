/** `accounts …`: customers (one login per store) and staff (no store). */
// Server code is imported inside each action, so help stays fast (see index.ts).
import { Argument, Option, type Command } from 'commander';
import type { RoleName } from '../../accounts/entities/index.js';
import type { AccountDetails } from '../account-lookup.js';
import { ROLES } from '../choices.js';
import type { CliContext } from '../context.js';
import { examples, fields, shownOnce, table, when } from '../output.js';
import { email, integerIn, storeSlug } from '../parse.js';
import { registerAccountsTotp } from './accounts-totp.js';

const STORE_HINT = "the account's store, when the email alone is ambiguous";

function detailLines(account: AccountDetails, home: string): string[] {
  const status = account.locked && account.status === 'active' ? `active, locked until ${when(account.lockedUntil)}` : account.status;
  return fields([
    ['id', account.id],
    ['username', account.username],
    ['email', account.email],
    ['name', account.displayName],
    ['home', home],
    ['roles', account.roles],
    ['status', status],
    ['failed sign-ins', account.failedLoginCount],
    ['password', account.hasPassword ? `set ${when(account.passwordChangedAt) ?? ''}`.trim() : 'none'],
    ['last sign-in', when(account.lastLoginAt)],
    ['created', when(account.createdAt)],
    ['permissions', account.permissions.map((grant) => `${grant.permission} (${grant.store ?? 'all stores'})`)],
  ]);
}

export function registerAccounts(program: Command, cli: CliContext): void {
  const group = program.command('accounts').description('accounts: store customers and staff (support, admin)');
  examples(
    group,
    'accounts list --store electronics --limit 20',
    'accounts show oleg@example.com --store books',
    'accounts create --email agent@example.com --name "Alex Agent" --role support',
  );

  const create = group
    .command('create')
    .description('create an account; without --password a strong one is generated and printed once')
    .requiredOption('--email <email>', 'email address, also the sign-in name', email)
    .requiredOption('--name <name>', 'display name')
    .option('--store <slug>', 'the store of a customer account (omit for staff)', storeSlug)
    .addOption(
      new Option('--role <role...>', 'roles: customer for store accounts; support and/or admin for staff')
        .choices(ROLES)
        .makeOptionMandatory(),
    )
    .option('--password <password>', 'initial password (visible in shell history; prefer the generated one)')
    .option('--json', 'print the result (including a generated password) as JSON')
    .action(async (options: { email: string; name: string; store?: string; role: RoleName[]; password?: string; json?: boolean }) => {
      const [{ AccountError }, { assertAcceptablePassword }, { checkRolesFit, describeHome, generatePassword, resolveStore }] =
        await Promise.all([
          import('../../accounts/account-service.js'),
          import('../../accounts/passwords.js'),
          import('../account-lookup.js'),
        ]);
      const roles = [...new Set(options.role)];
      if (options.password !== undefined) assertAcceptablePassword(options.password);
      const password = options.password ?? generatePassword();
      const account = await cli.withServices(async (services) => {
        const store = options.store ? await resolveStore(services, options.store) : null;
        checkRolesFit(store?.id ?? null, roles);
        if (await services.accounts.findByUsername(store?.id ?? null, options.email)) {
          throw new AccountError(`an account ${options.email} already exists ${store ? `in store ${store.slug}` : 'among staff'}`);
        }
        const created = await services.accounts.create({
          username: options.email,
          email: options.email,
          displayName: options.name,
          password,
          storeId: store?.id ?? null,
          roles,
        });
        await cli.recordAdmin(services, {
          type: 'admin.account.created',
          subject: created.id,
          details: { username: created.username, store: store?.slug ?? null, roles },
        });
        return created;
      });
      const generated = options.password === undefined ? password : null;
      if (options.json) return cli.json({ ...account, ...(generated ? { password: generated } : {}) });
      cli.out(`account ${account.id} created: ${account.username} (${describeHome(account)}), roles ${account.roles.join(', ')}`);
      if (generated) cli.out(...shownOnce('password', generated));
    });
  examples(
    create,
    'accounts create --email agent@example.com --name "Alex Agent" --role support',
    'accounts create --email boss@example.com --name "Bo Boss" --role support admin',
    'accounts create --email jane@example.org --name "Jane Doe" --store books --role customer',
  );

  const show = group
    .command('show')
    .description('show an account: roles, permissions, status (never its password hash)')
    .argument('<account>', 'account id, or email (staff first; use --store for a customer)')
    .option('--store <slug>', STORE_HINT, storeSlug)
    .option('--json', 'print JSON')
    .action(async (reference: string, options: { store?: string; json?: boolean }) => {
      const { accountDetails, describeHome, resolveAccount } = await import('../account-lookup.js');
      const details = await cli.withServices(async (services) =>
        accountDetails(services, await resolveAccount(services, reference, options.store)),
      );
      if (options.json) return cli.json(details);
      cli.out(...detailLines(details, describeHome(details)));
    });
  examples(
    show,
    'accounts show support@example.com',
    'accounts show oleg@example.com --store electronics --json',
    'accounts show 6f1c0a6e-4a53-4c4e-9f0e-2d1b7a0c9e11',
  );

  const list = group
    .command('list')
    .description('list accounts, staff first, then by store and sign-in name')
    .addOption(new Option('--store <slug>', "only this store's accounts").argParser(storeSlug).conflicts('staff'))
    .option('--staff', 'only staff accounts (no store)')
    .addOption(new Option('--role <role>', 'only accounts holding this role').choices(ROLES))
    .option('--limit <n>', 'at most this many (1-10000)', integerIn(1, 10_000), 50)
    .option('--json', 'print JSON')
    .action(async (options: { store?: string; staff?: boolean; role?: RoleName; limit: number; json?: boolean }) => {
      const [{ listAccounts }, { resolveStore }] = await Promise.all([import('../account-list.js'), import('../account-lookup.js')]);
      const { rows, total } = await cli.withServices(async (services) => {
        const store = options.store ? await resolveStore(services, options.store) : undefined;
        return listAccounts(services, { storeId: store?.id, staffOnly: options.staff, role: options.role, limit: options.limit });
      });
      if (options.json) return cli.json({ total, accounts: rows });
      cli.out(
        ...table(
          ['ID', 'USERNAME', 'STORE', 'ROLES', 'STATUS', 'NAME'],
          rows.map((row) => [
            row.id,
            row.username,
            row.store ?? 'staff',
            row.roles.join(','),
            row.locked && row.status === 'active' ? 'locked' : row.status,
            row.displayName,
          ]),
        ),
        `${rows.length} of ${total} account(s)`,
      );
    });
  examples(list, 'accounts list --staff', 'accounts list --store books --role customer --limit 20', 'accounts list --role admin --json');

  for (const [name, status] of [
    ['disable', 'disabled'],
    ['enable', 'active'],
  ] as const) {
    const command = group
      .command(name)
      .description(name === 'disable' ? 'disable an account: it can no longer sign in' : 'enable an account and clear any lockout')
      .argument('<account>', 'account id or email')
      .option('--store <slug>', STORE_HINT, storeSlug)
      .option('--reason <text>', 'why (recorded in the audit trail)')
      .action(async (reference: string, options: { store?: string; reason?: string }) => {
        const [{ describeHome, resolveAccount }, { OnBehalfRepository }, { sqlGrants }] = await Promise.all([
          import('../account-lookup.js'),
          import('../../server/on-behalf/on-behalf-repository.js'),
          import('../../server/on-behalf/sql-grants.js'),
        ]);
        const account = await cli.withServices(async (services) => {
          const account = await resolveAccount(services, reference, options.store);
          await services.accounts.setStatus(account.id, status);
          // A disabled agent or customer takes part in no on-behalf session any more.
          if (status === 'disabled')
            await new OnBehalfRepository(services.dataSource, services.audit, sqlGrants(services.dataSource)).endAccountSessions(
              account.id,
              cli.actor(),
              'account_disabled',
            );
          await cli.recordAdmin(services, {
            type: `admin.account.${name === 'disable' ? 'disabled' : 'enabled'}`,
            subject: account.id,
            details: { username: account.username, reason: options.reason ?? null },
          });
          return account;
        });
        cli.out(`account ${account.username} (${describeHome(account)}) ${name === 'disable' ? 'disabled' : 'enabled; lockout cleared'}`);
      });
    examples(command, `accounts ${name} viewer@example.com`, `accounts ${name} anna@example.com --store electronics`);
  }

  const unlock = group
    .command('unlock')
    .description('end a lockout (too many wrong passwords or codes) without changing anything else')
    .argument('<account>', 'account id or email')
    .option('--store <slug>', STORE_HINT, storeSlug)
    .option('--reason <text>', 'why (recorded in the audit trail)')
    .action(async (reference: string, options: { store?: string; reason?: string }) => {
      const { describeHome, resolveAccount } = await import('../account-lookup.js');
      const { account, changed } = await cli.withServices(async (services) => {
        const account = await resolveAccount(services, reference, options.store);
        const changed = await services.accounts.unlock(account.id);
        if (changed)
          await cli.recordAdmin(services, {
            type: 'admin.account.unlocked',
            subject: account.id,
            details: { username: account.username, reason: options.reason ?? null },
          });
        return { account, changed };
      });
      cli.out(`account ${account.username} (${describeHome(account)}) ${changed ? 'unlocked' : 'was not locked; nothing changed'}`);
    });
  examples(unlock, 'accounts unlock anna@example.com --store electronics --reason "Verified by phone"');

  const reset = group
    .command('reset-password')
    .description('set a new password (generated and printed once unless --password) and clear any lockout')
    .argument('<account>', 'account id or email')
    .option('--store <slug>', STORE_HINT, storeSlug)
    .option('--password <password>', 'the new password (visible in shell history; prefer the generated one)')
    .option('--json', 'print the result (including a generated password) as JSON')
    .action(async (reference: string, options: { store?: string; password?: string; json?: boolean }) => {
      const [{ assertAcceptablePassword }, { describeHome, generatePassword, resolveAccount }] = await Promise.all([
        import('../../accounts/passwords.js'),
        import('../account-lookup.js'),
      ]);
      if (options.password !== undefined) assertAcceptablePassword(options.password);
      const password = options.password ?? generatePassword();
      const account = await cli.withServices(async (services) => {
        const account = await resolveAccount(services, reference, options.store);
        await services.accounts.setPassword(account.id, password);
        await cli.recordAdmin(services, {
          type: 'admin.account.password_reset',
          subject: account.id,
          details: { username: account.username },
        });
        return account;
      });
      const generated = options.password === undefined ? password : null;
      if (options.json) return cli.json({ id: account.id, username: account.username, ...(generated ? { password: generated } : {}) });
      cli.out(`password of ${account.username} (${describeHome(account)}) reset`);
      if (generated) cli.out(...shownOnce('password', generated));
    });
  examples(reset, 'accounts reset-password support@example.com', 'accounts reset-password oleg@example.com --store books');

  for (const name of ['add-role', 'remove-role'] as const) {
    const command = group
      .command(name)
      .description(name === 'add-role' ? 'give an account a role' : 'take a role from an account')
      .argument('<account>', 'account id or email')
      .addArgument(new Argument('<role>', 'the role').choices(ROLES))
      .option('--store <slug>', STORE_HINT, storeSlug)
      .action(async (reference: string, role: RoleName, options: { store?: string }) => {
        const [{ AccountRole }, { checkRolesFit, describeHome, resolveAccount }] = await Promise.all([
          import('../../accounts/entities/index.js'),
          import('../account-lookup.js'),
        ]);
        const { account, changed } = await cli.withServices(async (services) => {
          const account = await resolveAccount(services, reference, options.store);
          const roles = services.dataSource.getRepository(AccountRole);
          if (name === 'add-role') {
            checkRolesFit(account.storeId, [role]);
            if (await roles.existsBy({ accountId: account.id, role })) return { account, changed: false };
            await roles.createQueryBuilder().insert().values({ accountId: account.id, role }).orIgnore().execute();
            await cli.recordAdmin(services, { type: 'admin.role.granted', subject: account.id, details: { role } });
            return { account, changed: true };
          }
          const result = await roles.delete({ accountId: account.id, role });
          const changed = (result.affected ?? 0) > 0;
          if (changed) await cli.recordAdmin(services, { type: 'admin.role.revoked', subject: account.id, details: { role } });
          return { account, changed };
        });
        const verb = name === 'add-role' ? ['now holds', 'already held'] : ['no longer holds', 'did not hold'];
        cli.out(`${account.username} (${describeHome(account)}) ${changed ? verb[0] : verb[1]} the ${role} role`);
      });
    examples(command, `accounts ${name} viewer@example.com admin`);
  }

  registerAccountsTotp(group, cli);
}

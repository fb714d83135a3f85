/** `stores …`: storefront tenants; their customers' accounts and clients belong to one. */
import type { Command } from 'commander';
import type { Store } from '../../accounts/entities/index.js';
import type { CliContext } from '../context.js';
import { examples, table, when } from '../output.js';
import { httpUrl, storeSlug } from '../parse.js';
import { CliError } from '../errors.js';

function asJson(store: Store): Record<string, unknown> {
  return { id: store.id, slug: store.slug, name: store.name, base_url: store.baseUrl, created_at: store.createdAt };
}

export function registerStores(program: Command, cli: CliContext): void {
  const group = program.command('stores').description('stores (storefront tenants)');
  examples(group, 'stores list', 'stores create garden --name "Garden" --base-url https://garden.example.com');

  const create = group
    .command('create')
    .description('create a store, or update the name and base URL of an existing one')
    .argument('<slug>', 'short name used by clients and the CLI (lower case, digits, dashes)', storeSlug)
    .requiredOption('--name <name>', 'display name, shown to support agents and customers')
    .option('--base-url <url>', "the storefront's URL", httpUrl)
    .action(async (slug: string, options: { name: string; baseUrl?: string }) => {
      const { store, existed } = await cli.withServices(async (services) => {
        const existing = await services.stores.findBySlug(slug);
        // Updating the name alone keeps the base URL.
        const store = await services.stores.upsert({ slug, name: options.name, baseUrl: options.baseUrl ?? existing?.baseUrl ?? null });
        await cli.recordAdmin(services, {
          type: existing ? 'admin.store.updated' : 'admin.store.created',
          details: { slug, name: store.name },
        });
        return { store, existed: !!existing };
      });
      cli.out(`store ${store.slug} ${existed ? 'updated' : 'created'} (id ${store.id})`);
    });
  examples(create, 'stores create garden --name "Garden" --base-url https://garden.example.com');

  const list = group
    .command('list')
    .description('list stores')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const stores = await cli.withServices((services) => services.stores.list());
      if (options.json) return cli.json(stores.map(asJson));
      cli.out(
        ...table(
          ['SLUG', 'NAME', 'BASE URL', 'CREATED', 'ID'],
          stores.map((store) => [store.slug, store.name, store.baseUrl, when(store.createdAt), store.id]),
        ),
      );
    });
  examples(list, 'stores list', 'stores list --json');

  const policy = group
    .command('set-policy')
    .description("the store's policy for its customers' say in login on behalf, and self-registration (audited)")
    .argument('<slug>', 'the store', storeSlug)
    .option('--require-approval', 'every customer is asked before support acts for them')
    .option('--no-require-approval', 'customers choose for themselves')
    .option('--allow-never', 'customers may refuse support access altogether')
    .option('--no-allow-never', 'customers may not choose "never" (their "never" counts as "after approval")')
    .option('--self-registration', "customers may create their own accounts at the store's sign-in page (mail must be on)")
    .option('--no-self-registration', 'only staff create accounts (the default)')
    .action(async (slug: string, options: { requireApproval?: boolean; allowNever?: boolean; selfRegistration?: boolean }) => {
      const result = await cli.withServices(async (services) => {
        const store = await services.stores.findBySlug(slug);
        if (!store) return undefined;
        const { AccessPolicies } = await import('../../server/customers/access-policies.js');
        const change = {
          ...(options.requireApproval !== undefined ? { requireApproval: options.requireApproval } : {}),
          ...(options.allowNever !== undefined ? { allowNever: options.allowNever } : {}),
          ...(options.selfRegistration !== undefined ? { selfRegistration: options.selfRegistration } : {}),
        };
        return new AccessPolicies(services.dataSource, services.audit).setStorePolicy(store.id, change, {
          type: 'admin.store.access_policy_changed',
          actor: cli.actor(),
          subject: null,
          clientId: null,
        });
      });
      if (!result) throw new CliError(`no store ${slug}`);
      cli.out(
        `store ${slug}: require approval ${result.requireApproval ? 'yes' : 'no'}, "never" allowed ${result.allowNever ? 'yes' : 'no'}, self-registration ${result.selfRegistration ? 'on' : 'off'}`,
      );
    });
  examples(policy, 'stores set-policy electronics --require-approval', 'stores set-policy books --no-allow-never --self-registration');
}

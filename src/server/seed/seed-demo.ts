/** Seeds the demo data (idempotent: what exists is left as it is). */
import type { DataSource } from 'typeorm';
import { Account, Contact } from '../../accounts/entities/index.js';
import { hashPassword } from '../../accounts/passwords.js';
import type { Services } from '../services.js';
import { registerClient } from '../clients/register.js';
import {
  DEMO_CLIENTS,
  DEMO_CUSTOMERS,
  DEMO_PASSWORDS,
  DEMO_RESOURCE_SERVERS,
  DEMO_STAFF,
  DEMO_STORES,
  generatedContacts,
  type GeneratedContact,
} from './demo-data.js';

export interface SeedSummary {
  stores: number;
  staff: number;
  contacts: number;
  accounts: number;
  clients: number;
  resourceServers: number;
}

/** Empty, or an earlier seed stopped half-way (clients are seeded last). */
async function needsSeed(dataSource: DataSource): Promise<boolean> {
  const [{ accounts, clients }] = (await dataSource.query(
    `SELECT (SELECT count(*) FROM account)::int AS accounts, (SELECT count(*) FROM oauth_client)::int AS clients`,
  )) as [{ accounts: number; clients: number }];
  return accounts === 0 || clients === 0;
}

export async function seedDemoIfEmpty(services: Services): Promise<SeedSummary | undefined> {
  if (!(await needsSeed(services.dataSource))) return undefined;
  return seedDemo(services);
}

export async function seedDemo(services: Services): Promise<SeedSummary> {
  const { dataSource, accounts, stores } = services;
  const cost = services.config.security.bcryptCost;
  const summary: SeedSummary = { stores: 0, staff: 0, contacts: 0, accounts: 0, clients: 0, resourceServers: 0 };

  const storeIds = new Map<string, string>();
  for (const store of DEMO_STORES) {
    storeIds.set(store.slug, (await stores.upsert(store)).id);
    summary.stores += 1;
  }

  for (const member of DEMO_STAFF) {
    const existing = await accounts.findByUsername(null, member.email);
    const account =
      existing ??
      (await accounts.create({
        username: member.email,
        email: member.email,
        displayName: member.name,
        password: member.password,
        roles: [...member.roles],
      }));
    for (const slug of member.loginOnBehalf) await accounts.grantPermission(account.id, 'security:loginOnBehalf', storeIds.get(slug)!);
    if (!existing) summary.staff += 1;
  }

  // One hash for every generated customer: hashing hundreds at production cost would take minutes.
  const customerHash = await hashPassword(DEMO_PASSWORDS.customer, cost);
  const people: GeneratedContact[] = [...DEMO_CUSTOMERS, ...generatedContacts()];
  await dataSource.transaction(async (manager) => {
    for (const person of people) {
      const already = await manager
        .getRepository(Account)
        .findOneBy({ username: person.email.toLowerCase(), storeId: storeIds.get(person.stores[0]!)! });
      if (already) continue;
      const contact = manager.create(Contact, {
        firstName: person.firstName,
        lastName: person.lastName,
        displayName: `${person.firstName} ${person.lastName}`,
        emails: [person.email],
        phones: [person.phone],
      });
      await manager.insert(Contact, contact);
      summary.contacts += 1;
      for (const slug of person.stores) {
        await accounts.create(
          {
            username: person.email,
            email: person.email,
            displayName: contact.displayName,
            passwordHash: customerHash,
            storeId: storeIds.get(slug)!,
            contactId: contact.id,
            roles: ['customer'],
          },
          manager,
        );
        summary.accounts += 1;
      }
    }
  });

  for (const resourceServer of DEMO_RESOURCE_SERVERS) {
    await services.resourceServers.upsert(resourceServer);
    summary.resourceServers += 1;
  }
  // Existing clients are left alone: re-seeding must not undo a rotated secret.
  const existing = new Set(await services.clients.ids());
  for (const client of DEMO_CLIENTS) {
    if (existing.has(client.metadata.client_id)) continue;
    await registerClient(services, client.metadata, client.secret);
    summary.clients += 1;
  }
  return summary;
}

/**
 * People in the audit trail: filters that name a person (an id, an email or
 * a name) become the accounts they mean, and each event gets the names of
 * its actor and subject and a sentence describing it.
 */
import type { StoreService } from '../../accounts/store-service.js';
import type { StoredAuditEvent } from '../../audit/index.js';
import { isUuid } from '../../common/uuid.js';
import { describeEvent } from '../audit-trail/describe-event.js';
import type { OidcPort } from '../oidc/port.js';
import type { AdminAuditQuery } from './audit-query.js';
import { QueryError } from './audit-query.js';
import { PersonReferenceError, type PeopleDirectory, type PersonSummary } from './people-directory.js';
import type { AuditQuery } from '../../audit/index.js';

/** An actor or subject written as Behalf records it (an id, `client:…`, `cli:…`, `system`) is taken as it is. */
function isRecordedReference(value: string): boolean {
  return isUuid(value) || value === 'system' || /^(client|cli):/.test(value);
}

export async function resolveAuditPeople(query: AdminAuditQuery, people: PeopleDirectory): Promise<AuditQuery> {
  const { person, ...rest } = query;
  const resolved: AuditQuery = { ...rest };
  try {
    if (rest.actor && !isRecordedReference(rest.actor)) {
      resolved.actors = (await people.resolve(rest.actor, 'actor')).ids;
      delete resolved.actor;
    }
    if (rest.subject && !isRecordedReference(rest.subject)) {
      resolved.subjects = (await people.resolve(rest.subject, 'subject')).ids;
      delete resolved.subject;
    }
    if (person) resolved.people = (await people.resolve(person, 'person')).ids;
  } catch (error) {
    if (error instanceof PersonReferenceError) throw new QueryError(error.message);
    throw error;
  }
  return resolved;
}

export interface NamedParty {
  id: string;
  name: string;
  email: string | null;
  store: string | null;
}

function party(person: PersonSummary): NamedParty {
  return { id: person.id, name: person.name, email: person.email, store: person.store?.name ?? null };
}

/** The people, stores and clients a page of events mentions, looked up once for the page. */
export async function eventNames(
  events: readonly StoredAuditEvent[],
  deps: { people: PeopleDirectory; stores: StoreService; oidc: OidcPort },
): Promise<{ describe: (event: StoredAuditEvent) => string; party: (reference: string | null) => NamedParty | null }> {
  const ids = events.flatMap((event) => [event.actor, event.subject, typeof event.details.agent === 'string' ? event.details.agent : null]);
  const people = await deps.people.summaries(ids.filter((id): id is string => !!id && isUuid(id)));
  const stores = new Map((await deps.stores.list()).map((store) => [store.id, store.name]));
  const clientIds = [...new Set(events.map((event) => event.clientId).filter((id): id is string => !!id))];
  const clients = new Map<string, string>();
  await Promise.all(
    clientIds.slice(0, 50).map(async (id) => {
      const found = await deps.oidc.findClient(id).catch(() => undefined);
      if (found?.name) clients.set(id, found.name);
    }),
  );
  const names = {
    person: (id: string) => people.get(id)?.name,
    store: (id: string) => stores.get(id),
    client: (id: string) => clients.get(id),
  };
  return {
    describe: (event) => describeEvent(event, names),
    party: (reference) => {
      const found = reference ? people.get(reference) : undefined;
      return found ? party(found) : null;
    },
  };
}

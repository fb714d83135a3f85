/**
 * TypeORM subscribers that make attribution automatic:
 * - `AttributionSubscriber` stamps `createdBy`, `modifiedBy` (the doer: the
 *   actor if any, else the subject) and `onBehalfOf` (the subject when an
 *   actor acts for them) on entities that have those properties;
 * - `AuditTrailSubscriber` records every insert, update and delete as
 *   `resource.<entity>.<created|updated|deleted>` in the resource server's own
 *   chained audit table, in the same transaction as the write.
 */
import type { EntityMetadata, EntitySubscriberInterface, InsertEvent, RemoveEvent, UpdateEvent } from 'typeorm';
import type { AuditWriter } from '../audit/index.js';
import { currentPrincipal } from './context.js';
import type { Principal } from './principal.js';

const STAMPS = ['createdBy', 'modifiedBy', 'onBehalfOf'] as const;

function attributed(metadata: EntityMetadata): boolean {
  return STAMPS.every((property) => metadata.findColumnWithPropertyName(property));
}

/** Who the write is for and by; writes outside a request (seeding, jobs) are the system's. */
function stamps(principal: Principal | undefined): { by: string; onBehalfOf: string | null } {
  if (!principal) return { by: 'system', onBehalfOf: null };
  return { by: principal.doer, onBehalfOf: principal.onBehalf ? principal.subject : null };
}

export class AttributionSubscriber implements EntitySubscriberInterface {
  beforeInsert(event: InsertEvent<Record<string, unknown>>): void {
    if (!event.entity || !attributed(event.metadata)) return;
    const { by, onBehalfOf } = stamps(currentPrincipal());
    event.entity.createdBy = by;
    event.entity.modifiedBy = by;
    event.entity.onBehalfOf = onBehalfOf;
  }

  beforeUpdate(event: UpdateEvent<Record<string, unknown>>): void {
    if (!event.entity || !attributed(event.metadata)) return;
    const { by, onBehalfOf } = stamps(currentPrincipal());
    event.entity.modifiedBy = by;
    event.entity.onBehalfOf = onBehalfOf;
  }
}

export interface AuditTrailOptions {
  /** Event names by table name (`shop_order` → `order`); default: the table name. */
  names?: Record<string, string>;
  /** Tables not to audit (the audit table itself is never audited). */
  skip?: string[];
}

export class AuditTrailSubscriber implements EntitySubscriberInterface {
  constructor(
    private readonly writer: AuditWriter,
    private readonly options: AuditTrailOptions = {},
  ) {}

  private name(metadata: EntityMetadata): string | undefined {
    if (this.options.skip?.includes(metadata.tableName)) return undefined;
    return (this.options.names?.[metadata.tableName] ?? metadata.tableName).replace(/[^a-z0-9_]/gi, '_').toLowerCase();
  }

  private async record(manager: InsertEvent<unknown>['manager'], metadata: EntityMetadata, change: 'created' | 'updated' | 'deleted', id: unknown, changed?: string[]): Promise<void> {
    const name = this.name(metadata);
    if (!name) return;
    const principal = currentPrincipal();
    await this.writer.append(manager, {
      type: `resource.${name}.${change}`,
      actor: principal?.doer ?? 'system',
      subject: principal?.subject ?? null,
      clientId: principal?.clientId ?? null,
      sessionId: principal?.onBehalfSessionId ?? null,
      details: {
        id: typeof id === 'object' && id !== null ? JSON.parse(JSON.stringify(id)) : (id as string | number | null) ?? null,
        ...(principal?.onBehalf ? { on_behalf_of: principal.subject, actor_chain: principal.actorChain.map((actor) => actor.sub) } : {}),
        ...(changed ? { changed } : {}),
      },
    });
  }

  async afterInsert(event: InsertEvent<Record<string, unknown>>): Promise<void> {
    await this.record(event.manager, event.metadata, 'created', event.metadata.getEntityIdMixedMap(event.entity) ?? null);
  }

  async afterUpdate(event: UpdateEvent<Record<string, unknown>>): Promise<void> {
    const id = event.entity ? event.metadata.getEntityIdMixedMap(event.entity as Record<string, unknown>) : undefined;
    await this.record(event.manager, event.metadata, 'updated', id ?? null, event.updatedColumns.map((column) => column.propertyName));
  }

  async afterRemove(event: RemoveEvent<Record<string, unknown>>): Promise<void> {
    await this.record(event.manager, event.metadata, 'deleted', event.entityId ?? null);
  }
}

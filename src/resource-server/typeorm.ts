/**
 * TypeORM subscribers that make attribution automatic:
 * - `AttributionSubscriber` stamps entities that have `createdBy`,
 *   `modifiedBy` and `onBehalfOf` properties. On insert: `createdBy` =
 *   `modifiedBy` = the doer (the actor if any, else the subject) and
 *   `onBehalfOf` = the subject when an actor acts for them, else null. On
 *   update only `modifiedBy` changes: `createdBy` and `onBehalfOf` describe
 *   the creation and keep their stored values even if the code (or a request
 *   body merged into the entity) tried to change them. Who changed what on
 *   whose behalf later is in the audit trail.
 * - `AuditTrailSubscriber` records every insert, update and delete (soft ones
 *   too) as `resource.<entity>.<created|updated|deleted>` in the resource
 *   server's own chained audit table, in the same transaction as the write.
 *   The records are collected during the transaction and appended just before
 *   COMMIT, because the chain lock is held from the first append to the
 *   commit (see src/audit/schema.ts): appending as each row is written would
 *   make every writing request wait for the whole of another's transaction.
 *   Fail closed: a write that runs outside a transaction (a query-builder
 *   `insert`/`update`/`delete`, `repository.update()`…) is refused, because
 *   its audit record could not commit with it; use `save()`/`remove()` or
 *   wrap the write in `dataSource.transaction()`.
 */
import type {
  EntityMetadata,
  EntitySubscriberInterface,
  InsertEvent,
  QueryRunner,
  RecoverEvent,
  RemoveEvent,
  SoftRemoveEvent,
  TransactionCommitEvent,
  TransactionRollbackEvent,
  UpdateEvent,
} from 'typeorm';
import type { AuditEventInput, AuditWriter, JsonValue } from '../audit/index.js';
import { currentPrincipal } from './context.js';
import type { Principal } from './principal.js';

const STAMPS = ['createdBy', 'modifiedBy', 'onBehalfOf'] as const;

function attributed(metadata: EntityMetadata): boolean {
  return STAMPS.every((property) => metadata.findColumnWithPropertyName(property));
}

/** How deep in (save)points the runner's transaction is: 1 for the outermost. TypeORM keeps it protected. */
function depthOf(queryRunner: QueryRunner): number {
  return (queryRunner as unknown as { transactionDepth?: number }).transactionDepth ?? 1;
}

/** Who the write is for and by; writes outside a request (seeding, jobs) are the system's. */
function stamps(principal: Principal | undefined): { by: string; onBehalfOf: string | null } {
  if (!principal) return { by: 'system', onBehalfOf: null };
  return { by: principal.doer, onBehalfOf: principal.onBehalf ? principal.subject : null };
}

/**
 * Stamps CreatedBy/ModifiedBy/OnBehalfOf from the request's principal.
 *
 * @example
 * const dataSource = new DataSource({ type: 'postgres', url, entities: [Order], subscribers: [AttributionSubscriber] });
 */
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
    const entity = event.entity as Record<string, unknown>;
    if (event.databaseEntity) {
      // save(): put back what the creation stamped.
      entity.createdBy = event.databaseEntity.createdBy;
      entity.onBehalfOf = event.databaseEntity.onBehalfOf;
    } else {
      // A query-builder update: its values are the SET clause; creation stamps are not the caller's to set.
      delete entity.createdBy;
      delete entity.onBehalfOf;
    }
    entity.modifiedBy = stamps(currentPrincipal()).by;
  }
}

export interface AuditTrailOptions {
  /** Event names by table name (`shop_order` → `order`); default: the table name. */
  names?: Record<string, string>;
  /** Tables not to audit (the audit table itself is never audited). */
  skip?: string[];
  /**
   * Properties whose values each event of a table also records under `details.values`
   * (`{ shop_cart_item: ['productId', 'quantity'] }`), so the trail can say what a change was
   * about after the row is gone. Never name a secret.
   */
  recordValues?: Record<string, string[]>;
}

/**
 * Audits every write of every entity (but `options.skip`) through `writer`.
 *
 * @example
 * await dataSource.initialize();
 * dataSource.subscribers.push(new AttributionSubscriber(), new AuditTrailSubscriber(new AuditWriter('orders_audit_event'), { names: { shop_order: 'order' } }));
 * // in a request: repository.save(order) → resource.order.created, actor = the agent, subject = the customer
 */
export class AuditTrailSubscriber implements EntitySubscriberInterface {
  constructor(
    private readonly writer: AuditWriter,
    private readonly options: AuditTrailOptions = {},
  ) {}

  /** The event's entity segment, `[a-z][a-z0-9_]*` as audit event types require. */
  private name(metadata: EntityMetadata): string | undefined {
    if (this.options.skip?.includes(metadata.tableName)) return undefined;
    const name = (this.options.names?.[metadata.tableName] ?? metadata.tableName)
      .toLowerCase()
      .replace(/[^a-z0-9_]/g, '_')
      .slice(0, 60);
    // `2fa_code` → `e2fa_code`: an event type segment starts with a letter.
    return /^[a-z]/.test(name) ? name : `e${name}`;
  }

  /** Refuses, before it happens, a write whose audit record could not commit with it. */
  private requireTransaction(queryRunner: QueryRunner, metadata: EntityMetadata, change: string): void {
    if (!this.name(metadata) || queryRunner.isTransactionActive) return;
    throw new Error(
      `audited ${change} of ${metadata.tableName} outside a transaction: use save()/remove() or wrap it in dataSource.transaction()`,
    );
  }

  /** Events of each open transaction (with the savepoint depth they belong to), appended at its commit. */
  private readonly pending = new WeakMap<QueryRunner, { depth: number; input: AuditEventInput }[]>();

  /** The configured properties of the row, as JSON (`details.values`). */
  private values(metadata: EntityMetadata, row: Record<string, unknown> | undefined): Record<string, JsonValue> {
    const wanted = this.options.recordValues?.[metadata.tableName];
    if (!wanted || !row) return {};
    const values: Record<string, JsonValue> = {};
    for (const property of wanted)
      if (row[property] !== undefined) values[property] = JSON.parse(JSON.stringify(row[property])) as JsonValue;
    return Object.keys(values).length ? { values } : {};
  }

  private async record(
    queryRunner: QueryRunner,
    metadata: EntityMetadata,
    change: 'created' | 'updated' | 'deleted',
    id: unknown,
    extra: Record<string, JsonValue> = {},
  ): Promise<void> {
    const name = this.name(metadata);
    if (!name) return;
    // The principal is read now, inside the request, not at commit time.
    const principal = currentPrincipal();
    const events = this.pending.get(queryRunner) ?? [];
    events.push({
      depth: depthOf(queryRunner),
      input: {
        type: `resource.${name}.${change}`,
        actor: principal?.doer ?? 'system',
        subject: principal?.subject ?? null,
        clientId: principal?.clientId || null,
        sessionId: principal?.onBehalfSessionId ?? null,
        details: {
          id:
            typeof id === 'object' && id !== null
              ? (JSON.parse(JSON.stringify(id)) as JsonValue)
              : ((id as string | number | null | undefined) ?? null),
          ...(principal?.onBehalf ? { on_behalf_of: principal.subject, actor_chain: principal.actorChain.map((actor) => actor.sub) } : {}),
          ...extra,
        },
      },
    });
    this.pending.set(queryRunner, events);
  }

  /**
   * Appends the transaction's records as its last statements, at the real COMMIT
   * (not at a savepoint's release); a failure here aborts the commit.
   */
  async beforeTransactionCommit(event: TransactionCommitEvent): Promise<void> {
    if (depthOf(event.queryRunner) > 1) return;
    const events = this.pending.get(event.queryRunner);
    this.pending.delete(event.queryRunner);
    for (const { input } of events ?? []) await this.writer.append(event.manager, input);
  }

  /** A rolled-back savepoint takes its records with it; the enclosing transaction keeps its own. */
  beforeTransactionRollback(event: TransactionRollbackEvent): void {
    const depth = depthOf(event.queryRunner);
    const kept = (this.pending.get(event.queryRunner) ?? []).filter((entry) => entry.depth < depth);
    this.pending.set(event.queryRunner, kept);
  }

  beforeInsert(event: InsertEvent<Record<string, unknown>>): void {
    this.requireTransaction(event.queryRunner, event.metadata, 'insert');
  }

  beforeUpdate(event: UpdateEvent<Record<string, unknown>>): void {
    this.requireTransaction(event.queryRunner, event.metadata, 'update');
  }

  beforeRemove(event: RemoveEvent<Record<string, unknown>>): void {
    this.requireTransaction(event.queryRunner, event.metadata, 'delete');
  }

  beforeSoftRemove(event: SoftRemoveEvent<Record<string, unknown>>): void {
    this.requireTransaction(event.queryRunner, event.metadata, 'soft delete');
  }

  beforeRecover(event: RecoverEvent<Record<string, unknown>>): void {
    this.requireTransaction(event.queryRunner, event.metadata, 'recover');
  }

  async afterInsert(event: InsertEvent<Record<string, unknown>>): Promise<void> {
    await this.record(
      event.queryRunner,
      event.metadata,
      'created',
      idOf(event.metadata, event.entity),
      this.values(event.metadata, event.entity),
    );
  }

  async afterUpdate(event: UpdateEvent<Record<string, unknown>>): Promise<void> {
    const entity = event.entity as Record<string, unknown> | undefined;
    // save() knows the changed columns; a query-builder update only its SET values (and no id).
    const changed = event.updatedColumns.length ? event.updatedColumns.map((column) => column.propertyName) : Object.keys(entity ?? {});
    const row = { ...(event.databaseEntity ?? {}), ...(entity ?? {}) };
    await this.record(
      event.queryRunner,
      event.metadata,
      'updated',
      idOf(event.metadata, entity) ?? idOf(event.metadata, event.databaseEntity),
      { changed, ...this.values(event.metadata, row) },
    );
  }

  async afterRemove(event: RemoveEvent<Record<string, unknown>>): Promise<void> {
    await this.record(
      event.queryRunner,
      event.metadata,
      'deleted',
      scalarId(event.entityId) ?? idOf(event.metadata, event.databaseEntity),
      this.values(event.metadata, event.databaseEntity ?? event.entity),
    );
  }

  async afterSoftRemove(event: SoftRemoveEvent<Record<string, unknown>>): Promise<void> {
    await this.record(event.queryRunner, event.metadata, 'deleted', scalarId(event.entityId) ?? idOf(event.metadata, event.entity), {
      soft: true,
    });
  }

  async afterRecover(event: RecoverEvent<Record<string, unknown>>): Promise<void> {
    await this.record(event.queryRunner, event.metadata, 'updated', scalarId(event.entityId) ?? idOf(event.metadata, event.entity), {
      recovered: true,
    });
  }
}

/** A primary key as recorded: a scalar for a single column, an object for a composite key. */
function scalarId(ids: unknown): unknown {
  if (!ids || typeof ids !== 'object') return ids;
  const values = Object.values(ids);
  return values.length === 1 ? values[0] : ids;
}

/** The entity's primary key, if the entity carries it. */
function idOf(metadata: EntityMetadata, entity: Record<string, unknown> | undefined): unknown {
  return entity ? scalarId(metadata.getEntityIdMap(entity)) : undefined;
}

/**
 * The kit's TypeORM subscribers behind a Koa API built on requireAuth: every
 * write is stamped with who did it (the agent when on behalf) and for whom,
 * and audited as resource.note.<created|updated|deleted> in the API's own
 * hash chain, in the same transaction. No Behalf here: tokens are signed with
 * a local key the verifier is given.
 */
import { randomUUID } from 'node:crypto';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import Koa from 'koa';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { Column, DataSource, DeleteDateColumn, Entity, PrimaryGeneratedColumn, type Repository } from 'typeorm';
import { AuditRepository, AuditSequencer, AuditWriter, auditSchemaUp, verifyChain, type StoredAuditEvent } from '../../src/audit/index.js';
import {
  AttributionSubscriber,
  AuditTrailSubscriber,
  createAccessTokenVerifier,
  requireAuth,
  runWithPrincipal,
  toPrincipal,
  type Principal,
} from '../../src/resource-server/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { serve, type Served } from '../support/kit.js';

const ISSUER = 'https://behalf.test';
const API = 'http://localhost:4003';
const AUDIT_TABLE = 'kit_audit_event';

@Entity('note')
class Note {
  @PrimaryGeneratedColumn() id!: number;
  @Column('text') body!: string;
  @Column('text', { nullable: true }) owner!: string | null;
  @Column('text', { name: 'created_by', nullable: true }) createdBy!: string | null;
  @Column('text', { name: 'modified_by', nullable: true }) modifiedBy!: string | null;
  @Column('text', { name: 'on_behalf_of', nullable: true }) onBehalfOf!: string | null;
  @DeleteDateColumn({ name: 'deleted_at', type: 'timestamptz', nullable: true }) deletedAt!: Date | null;
}

interface Who {
  sub: string;
  act?: { sub: string };
  obo_sid?: string;
  client_id: string;
}

const CUSTOMER = randomUUID();
const OTHER_CUSTOMER = randomUUID();
const AGENT = randomUUID();
const SESSION = randomUUID();
const OTHER_SESSION = randomUUID();

const customer: Who = { sub: CUSTOMER, client_id: 'storefront-electronics' };
const otherCustomer: Who = { sub: OTHER_CUSTOMER, client_id: 'storefront-electronics' };
const agentForCustomer: Who = { sub: CUSTOMER, act: { sub: AGENT }, obo_sid: SESSION, client_id: 'storefront-electronics' };
const agentForOther: Who = { sub: OTHER_CUSTOMER, act: { sub: AGENT }, obo_sid: OTHER_SESSION, client_id: 'storefront-electronics' };
const integrator: Who = { sub: 'integrator-demo', client_id: 'integrator-demo' };

/** What the stamps must say for a write by `who`. */
function expectedStamps(who: Who) {
  const by = who.act?.sub ?? who.sub;
  return { by, onBehalfOf: who.act ? who.sub : null };
}

let database: TestDatabase;
let dataSource: DataSource;
let notes: Repository<Note>;
let store: AuditRepository;
let api: Served;
let signingKey: CryptoKey;

async function token(who: Who): Promise<string> {
  return new SignJWT({ ...who, scope: 'notes:write' })
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'local-test-key' })
    .setIssuer(ISSUER)
    .setAudience(API)
    .setIssuedAt()
    .setExpirationTime('5m')
    .setJti(randomUUID())
    .sign(signingKey);
}

beforeAll(async () => {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  signingKey = privateKey;
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid: 'local-test-key', alg: 'ES256', use: 'sig' };
  const verifier = createAccessTokenVerifier({ issuer: ISSUER, audience: API, keys: createLocalJWKSet({ keys: [publicJwk] }) });

  database = await createTestDatabase();
  dataSource = new DataSource({ type: 'postgres', url: database.url, entities: [Note], synchronize: false });
  await dataSource.initialize();
  await dataSource.query(
    'CREATE TABLE note (id serial PRIMARY KEY, body text NOT NULL, owner text, created_by text, modified_by text, on_behalf_of text, deleted_at timestamptz)',
  );
  for (const statement of auditSchemaUp(AUDIT_TABLE)) await dataSource.query(statement);
  dataSource.subscribers.push(new AttributionSubscriber(), new AuditTrailSubscriber(new AuditWriter(AUDIT_TABLE)));
  notes = dataSource.getRepository(Note);
  store = new AuditRepository(dataSource, AUDIT_TABLE);

  const auth = requireAuth({ verifier, scopes: ['notes:write'] });
  const router = new Router();
  router.post('/notes', auth, async (ctx) => {
    const { body, jitter } = ctx.request.body as { body: string; jitter?: number };
    // Jitter lets concurrent requests interleave between authentication and the write.
    if (jitter) await new Promise((resolve) => setTimeout(resolve, jitter));
    ctx.status = 201;
    ctx.body = await notes.save(notes.create({ body, owner: ctx.state.principal!.subject }));
  });
  router.patch('/notes/:id', auth, async (ctx) => {
    const note = await notes.findOneByOrFail({ id: Number(ctx.params.id) });
    // Merging the request body is exactly how a careless handler lets a client try to rewrite the stamps.
    notes.merge(note, ctx.request.body as Partial<Note>);
    ctx.body = await notes.save(note);
  });
  router.delete('/notes/:id', auth, async (ctx) => {
    await notes.remove(await notes.findOneByOrFail({ id: Number(ctx.params.id) }));
    ctx.status = 204;
  });
  router.post('/notes/:id/archive', auth, async (ctx) => {
    await notes.softRemove(await notes.findOneByOrFail({ id: Number(ctx.params.id) }));
    ctx.status = 204;
  });
  const app = new Koa();
  app.use(bodyParser());
  app.use(router.routes());
  api = await serve(app);
});
afterAll(async () => {
  await api?.close();
  await dataSource?.destroy();
  await database?.drop();
});

async function send(who: Who | string, method: string, path: string, body?: Record<string, unknown>) {
  const response = await fetch(`${api.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${typeof who === 'string' ? who : await token(who)}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

async function create(who: Who, body: string): Promise<number> {
  const response = await send(who, 'POST', '/notes', { body });
  expect(response.status).toBe(201);
  return Number(response.body.id);
}

/** The row as stored (raw SQL, so nothing in TypeORM can hide a wrong stamp). */
async function row(id: number) {
  const [found] = (await dataSource.query(
    'SELECT id, body, owner, created_by, modified_by, on_behalf_of, deleted_at FROM note WHERE id = $1',
    [id],
  )) as {
    id: number;
    body: string;
    owner: string | null;
    created_by: string | null;
    modified_by: string | null;
    on_behalf_of: string | null;
    deleted_at: Date | null;
  }[];
  return found;
}

/** The log in seq order, after sequencing what is pending (what the resource server's own sequencer does within a second). */
async function* sequenced(batch?: number): AsyncGenerator<StoredAuditEvent> {
  await new AuditSequencer(dataSource, AUDIT_TABLE).drain();
  yield* store.stream(batch);
}

async function eventsFor(id: number): Promise<StoredAuditEvent[]> {
  const all: StoredAuditEvent[] = [];
  for await (const event of sequenced()) if (event.details.id === id) all.push(event);
  return all;
}

describe('attribution stamps', () => {
  it('a customer’s own write: created_by = modified_by = the customer, on_behalf_of null', async () => {
    const id = await create(customer, 'my own note');
    expect(await row(id)).toMatchObject({
      body: 'my own note',
      owner: CUSTOMER,
      created_by: CUSTOMER,
      modified_by: CUSTOMER,
      on_behalf_of: null,
    });
  });

  it('a write on behalf: created_by = modified_by = the agent, on_behalf_of = the customer', async () => {
    const id = await create(agentForCustomer, 'written by support');
    expect(await row(id)).toMatchObject({ owner: CUSTOMER, created_by: AGENT, modified_by: AGENT, on_behalf_of: CUSTOMER });
  });

  it('an update by another principal changes modified_by only, whatever the request body says', async () => {
    const mine = await create(customer, 'to be edited by support');
    const edited = await send(agentForCustomer, 'PATCH', `/notes/${mine}`, {
      body: 'edited by support',
      createdBy: 'mallory',
      onBehalfOf: 'mallory',
      modifiedBy: 'mallory',
    });
    expect(edited.status).toBe(200);
    expect(await row(mine)).toMatchObject({ body: 'edited by support', created_by: CUSTOMER, modified_by: AGENT, on_behalf_of: null });

    const theirs = await create(agentForCustomer, 'to be edited by the customer');
    expect(
      (await send(customer, 'PATCH', `/notes/${theirs}`, { body: 'edited by the customer', createdBy: CUSTOMER, onBehalfOf: null })).status,
    ).toBe(200);
    expect(await row(theirs)).toMatchObject({
      body: 'edited by the customer',
      created_by: AGENT,
      modified_by: CUSTOMER,
      on_behalf_of: CUSTOMER,
    });
  });

  it('stamps a query-builder update inside a transaction, and refuses one outside (its audit could not commit with it)', async () => {
    const id = await create(customer, 'query builder target');
    const principal: Principal = toPrincipal({ ...agentForCustomer, scope: 'notes:write' });
    await expect(runWithPrincipal(principal, () => notes.update(id, { body: 'untracked' }))).rejects.toThrow(/outside a transaction/);
    expect(await row(id)).toMatchObject({ body: 'query builder target', modified_by: CUSTOMER });

    await runWithPrincipal(principal, () =>
      dataSource.transaction((manager) => manager.update(Note, id, { body: 'tracked', createdBy: 'mallory' })),
    );
    expect(await row(id)).toMatchObject({ body: 'tracked', created_by: CUSTOMER, modified_by: AGENT, on_behalf_of: null });
    const updated = (await store.query({ type: 'resource.note.updated', limit: 1 })).events[0]!;
    expect(updated).toMatchObject({ actor: AGENT, subject: CUSTOMER, sessionId: SESSION, details: { changed: ['body', 'modifiedBy'] } });
  });

  it('attributes writes outside any request to the system', async () => {
    const saved = await notes.save(notes.create({ body: 'seeded', owner: null }));
    expect(await row(saved.id)).toMatchObject({ created_by: 'system', modified_by: 'system', on_behalf_of: null });
    expect(await eventsFor(saved.id)).toEqual([
      expect.objectContaining({ type: 'resource.note.created', actor: 'system', subject: null, sessionId: null, clientId: null }),
    ]);
  });

  it('keeps 50 concurrent requests of mixed principals apart: every row carries its own request’s principal', async () => {
    const principals = [customer, otherCustomer, agentForCustomer, agentForOther, integrator];
    const requests = Array.from({ length: 50 }, (_, i) => ({
      who: principals[i % principals.length]!,
      body: `concurrent-${i}-${randomUUID()}`,
    }));
    const responses = await Promise.all(
      requests.map(({ who, body }) => send(who, 'POST', '/notes', { body, jitter: Math.floor(Math.random() * 25) })),
    );
    expect(responses.map((response) => response.status)).toEqual(requests.map(() => 201));

    const rows = (await dataSource.query('SELECT id, body, owner, created_by, modified_by, on_behalf_of FROM note WHERE body LIKE $1', [
      'concurrent-%',
    ])) as {
      id: number;
      body: string;
      owner: string;
      created_by: string;
      modified_by: string;
      on_behalf_of: string | null;
    }[];
    expect(rows).toHaveLength(50);
    const created = new Map<unknown, StoredAuditEvent>();
    for await (const event of sequenced()) if (event.type === 'resource.note.created') created.set(event.details.id, event);
    for (const { who, body } of requests) {
      const stored = rows.find((candidate) => candidate.body === body)!;
      const { by, onBehalfOf } = expectedStamps(who);
      expect({
        body,
        owner: stored.owner,
        created_by: stored.created_by,
        modified_by: stored.modified_by,
        on_behalf_of: stored.on_behalf_of,
      }).toEqual({
        body,
        owner: who.sub,
        created_by: by,
        modified_by: by,
        on_behalf_of: onBehalfOf,
      });
      expect(created.get(stored.id)).toMatchObject({
        actor: by,
        subject: who.sub,
        sessionId: who.obo_sid ?? null,
        clientId: who.client_id,
      });
    }
  });

  it('writes nothing for a request with a bad token', async () => {
    const before = await store.mark();
    const forged = `${(await token(customer)).slice(0, -4)}AAAA`;
    expect((await send(forged, 'POST', '/notes', { body: 'forged' })).status).toBe(401);
    expect(await store.mark()).toEqual(before);
    expect(await dataSource.query(`SELECT id FROM note WHERE body = 'forged'`)).toEqual([]);
  });
});

describe('audit trail', () => {
  it('records created, updated and deleted with the agent as actor, the customer as subject and the session', async () => {
    const id = await create(agentForCustomer, 'audited');
    expect((await send(agentForCustomer, 'PATCH', `/notes/${id}`, { body: 'audited, edited' })).status).toBe(200);
    expect((await send(agentForCustomer, 'DELETE', `/notes/${id}`)).status).toBe(204);
    expect(await row(id)).toBeUndefined();

    const events = await eventsFor(id);
    expect(events.map((event) => event.type)).toEqual(['resource.note.created', 'resource.note.updated', 'resource.note.deleted']);
    for (const event of events) {
      expect(event).toMatchObject({
        actor: AGENT,
        subject: CUSTOMER,
        sessionId: SESSION,
        clientId: 'storefront-electronics',
        details: { id, on_behalf_of: CUSTOMER, actor_chain: [AGENT] },
      });
    }
    // The agent created it, so modified_by did not change: only the body did.
    expect(events[1]!.details.changed).toEqual(['body']);
  });

  it('records a customer’s own change without on-behalf details, and a soft delete as deleted', async () => {
    const id = await create(customer, 'archived');
    expect((await send(customer, 'POST', `/notes/${id}/archive`)).status).toBe(204);
    expect((await row(id))!.deleted_at).toBeInstanceOf(Date);
    const events = await eventsFor(id);
    expect(events.map((event) => event.type)).toEqual(['resource.note.created', 'resource.note.deleted']);
    expect(events[1]).toMatchObject({ actor: CUSTOMER, subject: CUSTOMER, sessionId: null, details: { id, soft: true } });
    expect(events[1]!.details.on_behalf_of).toBeUndefined();
  });

  it('fails closed: when the audit record cannot be written, the write does not happen', async () => {
    const broken = new DataSource({ type: 'postgres', url: database.url, entities: [Note], synchronize: false });
    await broken.initialize();
    try {
      broken.subscribers.push(new AttributionSubscriber(), new AuditTrailSubscriber(new AuditWriter('missing_audit_event')));
      const principal = toPrincipal({ ...agentForCustomer, scope: 'notes:write' });
      await expect(
        runWithPrincipal(principal, () => broken.getRepository(Note).save({ body: 'unaudited', owner: CUSTOMER })),
      ).rejects.toThrow(/missing_audit_event_enqueue/);
      expect(await dataSource.query(`SELECT id FROM note WHERE body = 'unaudited'`)).toEqual([]);
    } finally {
      await broken.destroy();
    }
  });

  it('names events after the table, or the name given, as a valid event type', async () => {
    const named = new DataSource({ type: 'postgres', url: database.url, entities: [Note], synchronize: false });
    await named.initialize();
    try {
      named.subscribers.push(new AuditTrailSubscriber(new AuditWriter(AUDIT_TABLE), { names: { note: '2FA Note' } }));
      const saved = await named.getRepository(Note).save({ body: 'named', owner: null });
      expect((await eventsFor(saved.id)).map((event) => event.type)).toEqual(['resource.e2fa_note.created']);
    } finally {
      await named.destroy();
    }
  });

  it('records the chosen values with each event, so a deleted row can still be described', async () => {
    const valued = new DataSource({ type: 'postgres', url: database.url, entities: [Note], synchronize: false });
    await valued.initialize();
    try {
      valued.subscribers.push(
        new AuditTrailSubscriber(new AuditWriter(AUDIT_TABLE), {
          names: { note: 'valued_note' },
          recordValues: { note: ['body', 'owner'] },
        }),
      );
      const repository = valued.getRepository(Note);
      const saved = await repository.save({ body: 'kept in the trail', owner: CUSTOMER });
      await repository.remove(await repository.findOneByOrFail({ id: saved.id }));
      const events = await eventsFor(saved.id);
      expect(events.map((event) => [event.type, event.details.values])).toEqual([
        ['resource.valued_note.created', { body: 'kept in the trail', owner: CUSTOMER }],
        ['resource.valued_note.deleted', { body: 'kept in the trail', owner: CUSTOMER }],
      ]);
    } finally {
      await valued.destroy();
    }
  });

  it('keeps a chain that verifies end to end', async () => {
    await new AuditSequencer(dataSource, AUDIT_TABLE).drain();
    const head = await store.head();
    let checkpointsVerified = 0;
    const result = await verifyChain(AUDIT_TABLE, store.stream(10), [], async () => {
      checkpointsVerified += 1;
      throw new Error('no checkpoints were expected');
    });
    expect(result).toMatchObject({ ok: true, events: head!.seq, lastSeq: head!.seq, checkpoints: 0, log: { missingQids: [] } });
    expect(result.problem).toBeUndefined();
    expect(checkpointsVerified).toBe(0);
    // 50 concurrent creations and the rest: more than enough writers raced for the chain head.
    expect(head!.seq).toBeGreaterThan(60);
  });
});

/**
 * Registered clients live in `oauth_client`: oidc-provider metadata as JSONB,
 * the secret sealed at rest (oidc-provider needs the plaintext to compare).
 */
import { randomBytes } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { preparedQuery } from '../db/prepared.js';
import type { Sealer } from '../secrets/sealer.js';
import { OAuthClient } from './client.entity.js';
import type { ClientKind } from './client-kind.js';

/** Behalf's own client metadata, beside the standard fields. */
export interface BehalfClientMetadata {
  client_id: string;
  client_name?: string;
  /** Skips the consent screen. */
  first_party?: boolean;
  /** storefront: a store's customers; backoffice: staff; service: machine-to-machine. */
  client_kind: ClientKind;
  /** The store (slug) a storefront client serves. */
  store?: string;
  /** Resource indicators this client may ask tokens for. */
  allowed_resources?: string[];
  [key: string]: unknown;
}

export function generateClientSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Bound on remembered client secrets (clients are few; a flood of rotations just starts the map over). */
const MAX_OPENED_SECRETS = 1_000;

/**
 * How long a client looked up for oidc-provider is answered from memory. Every token request looks
 * its client up, and that database round trip was a fifth of a `client_credentials` request's cost.
 * A change made through this repository is seen at once here; one made by another instance or the
 * CLI reaches this instance within this bound (a deleted client or a rotated secret keeps working
 * here for at most this long).
 */
export const CLIENT_CACHE_MS = 1_000;
/** Bound on clients held in memory at once (when full, the map starts over). */
const MAX_CACHED_CLIENTS = 10_000;

/** A client's metadata as oidc-provider loads it: standard and Behalf properties, and the opened secret. */
export type ClientPayload = Record<string, unknown> & { client_id: string; client_secret?: string };

export class ClientRepository {
  /**
   * Opened secrets by their sealed form: oidc-provider looks the client up on
   * every token request, and decrypting each time was measurable CPU. The key
   * is the sealed text itself, so a rotated secret (new ciphertext) is never
   * answered from here, and nothing is remembered for a client that is gone.
   */
  private readonly opened = new Map<string, string>();
  /** Clients as oidc-provider last loaded them, until a deadline (see CLIENT_CACHE_MS); found clients only. */
  private readonly loaded = new Map<string, { payload: ClientPayload; until: number }>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly sealer: Sealer,
  ) {}

  /** The client's metadata with its secret opened, as oidc-provider loads it (see oidc/adapter.ts). */
  async findForProvider(clientId: string): Promise<ClientPayload | undefined> {
    // Longer than the column, or a NUL (which PostgreSQL text cannot hold): no such client.
    if (clientId.length > 200 || clientId.includes('\u0000')) return undefined;
    const now = Date.now();
    const held = this.loaded.get(clientId);
    if (held && held.until > now) return { ...held.payload };
    // Plain SQL: this runs on every token request, and the entity manager's overhead showed in profiles.
    const [row] = await preparedQuery<{ client_id: string; metadata: Record<string, unknown>; client_secret_encrypted: string | null }>(
      this.dataSource,
      `SELECT client_id, metadata, client_secret_encrypted FROM oauth_client WHERE client_id = $1`,
      [clientId],
    );
    if (!row) return undefined;
    const secret = row.client_secret_encrypted ? await this.openSecret(row.client_secret_encrypted) : undefined;
    const payload: ClientPayload = { ...row.metadata, client_id: row.client_id, ...(secret ? { client_secret: secret } : {}) };
    if (this.loaded.size >= MAX_CACHED_CLIENTS) this.loaded.clear();
    this.loaded.set(clientId, { payload, until: now + CLIENT_CACHE_MS });
    return { ...payload };
  }

  /** Drops a client from memory: this instance's own changes are seen by its next look-up. */
  private changed(clientId: string): void {
    this.loaded.delete(clientId);
  }

  private async openSecret(sealed: string): Promise<string> {
    const known = this.opened.get(sealed);
    if (known !== undefined) return known;
    const secret = await this.sealer.open(sealed);
    if (this.opened.size >= MAX_OPENED_SECRETS) this.opened.clear();
    this.opened.set(sealed, secret);
    return secret;
  }

  /** Creates or replaces a client, metadata and secret (a replaced client's previous secret is forgotten). */
  async save(metadata: BehalfClientMetadata, secret: string | null, manager?: EntityManager): Promise<void> {
    const { client_id: clientId, client_secret: _ignored, ...rest } = metadata;
    this.changed(clientId);
    await (manager ?? this.dataSource).getRepository(OAuthClient).upsert(
      {
        clientId,
        metadata: { client_id: clientId, ...rest },
        clientSecretEncrypted: secret ? await this.sealer.seal(secret) : null,
        previousSecretEncrypted: null,
        previousSecretExpiresAt: null,
      },
      ['clientId'],
    );
  }

  /** Replaces a client's metadata, its secrets untouched. */
  async updateMetadata(metadata: BehalfClientMetadata, manager?: EntityManager): Promise<void> {
    const { client_id: clientId, client_secret: _ignored, ...rest } = metadata;
    this.changed(clientId);
    await (manager ?? this.dataSource).getRepository(OAuthClient).update({ clientId }, { metadata: { client_id: clientId, ...rest } });
  }

  /**
   * A new secret; the one it replaces stays valid for `graceSeconds` (0: it stops now), so
   * deployments can switch over without an outage. Returns when the old one stops working, or
   * undefined when there was no such client.
   */
  async rotateSecret(
    clientId: string,
    secret: string,
    graceSeconds: number,
    manager?: EntityManager,
  ): Promise<{ previousExpiresAt: Date | null } | undefined> {
    const sealed = await this.sealer.seal(secret);
    this.changed(clientId);
    // Wrapped in a SELECT so every driver path returns plain rows.
    const [row] = (await (manager ?? this.dataSource).query(
      `WITH rotated AS (
         UPDATE oauth_client SET
           previous_secret_encrypted = CASE WHEN $3::int > 0 THEN client_secret_encrypted END,
           previous_secret_expires_at = CASE WHEN $3::int > 0 AND client_secret_encrypted IS NOT NULL
                                             THEN now() + make_interval(secs => $3::int) END,
           client_secret_encrypted = $2, secret_rotated_at = now(), updated_at = now()
         WHERE client_id = $1
         RETURNING previous_secret_expires_at)
       SELECT previous_secret_expires_at FROM rotated`,
      [clientId, sealed, graceSeconds],
    )) as { previous_secret_expires_at: Date | null }[];
    return row ? { previousExpiresAt: row.previous_secret_expires_at } : undefined;
  }

  /** Removes a client's secrets (it became a public client). */
  async clearSecret(clientId: string, manager?: EntityManager): Promise<void> {
    this.changed(clientId);
    await (manager ?? this.dataSource)
      .getRepository(OAuthClient)
      .update({ clientId }, { clientSecretEncrypted: null, previousSecretEncrypted: null, previousSecretExpiresAt: null });
  }

  /** The secret a rotation replaced, opened, while its grace period lasts; otherwise undefined. */
  async previousSecret(clientId: string): Promise<string | undefined> {
    if (clientId.length > 200 || clientId.includes('\u0000')) return undefined;
    const [row] = await preparedQuery<{ previous_secret_encrypted: string }>(
      this.dataSource,
      `SELECT previous_secret_encrypted FROM oauth_client
        WHERE client_id = $1 AND previous_secret_encrypted IS NOT NULL AND previous_secret_expires_at > now()`,
      [clientId],
    );
    return row ? this.openSecret(row.previous_secret_encrypted) : undefined;
  }

  /** Marks a client as registered dynamically (RFC 7591), within the resources its initial access token allowed. */
  async markRegistered(clientId: string, resources: string[], manager?: EntityManager): Promise<void> {
    await (manager ?? this.dataSource).getRepository(OAuthClient).update({ clientId }, { registrationResources: resources });
  }

  /** One client's row (no secret), or undefined. */
  async find(clientId: string): Promise<OAuthClient | undefined> {
    if (clientId.length > 200 || clientId.includes('\u0000')) return undefined;
    return (await this.dataSource.getRepository(OAuthClient).findOneBy({ clientId })) ?? undefined;
  }

  /** Ids of the clients that have a current secret. */
  async idsWithSecret(): Promise<Set<string>> {
    const rows = (await this.dataSource.query('SELECT client_id FROM oauth_client WHERE client_secret_encrypted IS NOT NULL')) as {
      client_id: string;
    }[];
    return new Set(rows.map((row) => row.client_id));
  }

  async list(): Promise<OAuthClient[]> {
    return this.dataSource.getRepository(OAuthClient).find({ order: { clientId: 'ASC' } });
  }

  async ids(): Promise<string[]> {
    return (await this.list()).map((client) => client.clientId);
  }

  async remove(clientId: string, manager?: EntityManager): Promise<boolean> {
    this.changed(clientId);
    const result = await (manager ?? this.dataSource).getRepository(OAuthClient).delete({ clientId });
    return (result.affected ?? 0) > 0;
  }

  /** Re-seals every secret (current and, within its grace, previous) with the current key-encryption key; returns how many changed. */
  async rewrap(): Promise<number> {
    const rows = await this.dataSource
      .getRepository(OAuthClient)
      .createQueryBuilder('client')
      .addSelect(['client.clientSecretEncrypted', 'client.previousSecretEncrypted'])
      .getMany();
    let changed = 0;
    for (const row of rows) {
      const update: { clientSecretEncrypted?: string; previousSecretEncrypted?: string } = {};
      for (const key of ['clientSecretEncrypted', 'previousSecretEncrypted'] as const) {
        const sealed = row[key];
        if (sealed && this.sealer.needsRewrap(sealed)) update[key] = await this.sealer.seal(await this.sealer.open(sealed));
      }
      if (!Object.keys(update).length) continue;
      this.changed(row.clientId);
      await this.dataSource.getRepository(OAuthClient).update({ clientId: row.clientId }, update);
      changed += 1;
    }
    return changed;
  }
}

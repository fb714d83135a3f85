/**
 * Registered clients live in `oauth_client`: oidc-provider metadata as JSONB,
 * the secret sealed at rest (oidc-provider needs the plaintext to compare).
 */
import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
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

  constructor(
    private readonly dataSource: DataSource,
    private readonly sealer: Sealer,
  ) {}

  /** The client's metadata with its secret opened, as oidc-provider loads it (see oidc/adapter.ts). */
  async findForProvider(clientId: string): Promise<ClientPayload | undefined> {
    // Longer than the column, or a NUL (which PostgreSQL text cannot hold): no such client.
    if (clientId.length > 200 || clientId.includes('\u0000')) return undefined;
    // Plain SQL: this runs on every token request, and the entity manager's overhead showed in profiles.
    const [row] = await preparedQuery<{ client_id: string; metadata: Record<string, unknown>; client_secret_encrypted: string | null }>(
      this.dataSource,
      `SELECT client_id, metadata, client_secret_encrypted FROM oauth_client WHERE client_id = $1`,
      [clientId],
    );
    if (!row) return undefined;
    const secret = row.client_secret_encrypted ? await this.openSecret(row.client_secret_encrypted) : undefined;
    return { ...row.metadata, client_id: row.client_id, ...(secret ? { client_secret: secret } : {}) };
  }

  private async openSecret(sealed: string): Promise<string> {
    const known = this.opened.get(sealed);
    if (known !== undefined) return known;
    const secret = await this.sealer.open(sealed);
    if (this.opened.size >= MAX_OPENED_SECRETS) this.opened.clear();
    this.opened.set(sealed, secret);
    return secret;
  }

  async save(metadata: BehalfClientMetadata, secret: string | null): Promise<void> {
    const { client_id: clientId, client_secret: _ignored, ...rest } = metadata;
    await this.dataSource.getRepository(OAuthClient).upsert(
      {
        clientId,
        metadata: { client_id: clientId, ...rest },
        clientSecretEncrypted: secret ? await this.sealer.seal(secret) : null,
      },
      ['clientId'],
    );
  }

  async list(): Promise<OAuthClient[]> {
    return this.dataSource.getRepository(OAuthClient).find({ order: { clientId: 'ASC' } });
  }

  async ids(): Promise<string[]> {
    return (await this.list()).map((client) => client.clientId);
  }

  async remove(clientId: string): Promise<boolean> {
    const result = await this.dataSource.getRepository(OAuthClient).delete({ clientId });
    return (result.affected ?? 0) > 0;
  }

  /** Re-seals every secret with the current key-encryption key; returns how many changed. */
  async rewrap(): Promise<number> {
    const rows = await this.dataSource
      .getRepository(OAuthClient)
      .createQueryBuilder('client')
      .addSelect('client.clientSecretEncrypted')
      .getMany();
    let changed = 0;
    for (const row of rows) {
      if (!row.clientSecretEncrypted || !this.sealer.needsRewrap(row.clientSecretEncrypted)) continue;
      const sealed = await this.sealer.seal(await this.sealer.open(row.clientSecretEncrypted));
      await this.dataSource.getRepository(OAuthClient).update({ clientId: row.clientId }, { clientSecretEncrypted: sealed });
      changed += 1;
    }
    return changed;
  }
}

/**
 * The resource servers Behalf issues access tokens for, cached in memory and
 * refreshed by the same poll that notices key rotations.
 */
import type { DataSource } from 'typeorm';
import { normaliseResourceIndicator } from './resource-indicator.js';
import { ResourceServer, type TokenFormat } from './resource-server.entity.js';

export interface ResourceServerInput {
  identifier: string;
  name: string;
  tokenFormat?: TokenFormat;
  scopes?: string[];
  accessTokenTtl?: number | null;
  alias?: string | null;
}

const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/; // RFC 6749 §3.3 scope-token

export class ResourceServerError extends Error {
  override name = 'ResourceServerError';
}

export class ResourceServerRegistry {
  private byIdentifier = new Map<string, ResourceServer>();

  constructor(private readonly dataSource: DataSource) {}

  async refresh(): Promise<void> {
    const rows = await this.dataSource.getRepository(ResourceServer).find();
    this.byIdentifier = new Map(rows.map((row) => [row.identifier, row]));
  }

  /** The resource server a (raw) indicator names, if registered. */
  get(indicator: string): ResourceServer | undefined {
    try {
      return this.byIdentifier.get(normaliseResourceIndicator(indicator));
    } catch {
      return undefined;
    }
  }

  /** By resource indicator or by logical alias (RFC 8693 `audience`). */
  find(value: string): ResourceServer | undefined {
    return this.get(value) ?? this.all().find((server) => server.alias !== null && server.alias === value);
  }

  all(): ResourceServer[] {
    return [...this.byIdentifier.values()];
  }

  async upsert(input: ResourceServerInput): Promise<ResourceServer> {
    const identifier = normaliseResourceIndicator(input.identifier);
    const scopes = input.scopes ?? [];
    const bad = scopes.find((scope) => !SCOPE_TOKEN.test(scope));
    if (bad !== undefined) throw new ResourceServerError(`invalid scope name ${JSON.stringify(bad)}`);
    if (scopes.includes('openid') || scopes.includes('offline_access'))
      throw new ResourceServerError('openid and offline_access are not resource server scopes');
    const repository = this.dataSource.getRepository(ResourceServer);
    await repository.upsert(
      {
        identifier,
        name: input.name,
        tokenFormat: input.tokenFormat ?? 'jwt',
        scopes,
        accessTokenTtl: input.accessTokenTtl ?? null,
        alias: input.alias ?? null,
      },
      ['identifier'],
    );
    await this.refresh();
    return this.byIdentifier.get(identifier)!;
  }

  async remove(identifier: string): Promise<boolean> {
    const result = await this.dataSource.getRepository(ResourceServer).delete({ identifier: normaliseResourceIndicator(identifier) });
    await this.refresh();
    return (result.affected ?? 0) > 0;
  }
}

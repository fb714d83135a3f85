/**
 * The resource servers Behalf issues access tokens for, cached in memory and
 * refreshed by the same poll that notices key rotations.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { normaliseResourceIndicator } from './resource-indicator.js';
import { ResourceServer, type TokenFormat } from './resource-server.entity.js';

export interface ResourceServerInput {
  identifier: string;
  name: string;
  tokenFormat?: TokenFormat;
  scopes?: string[];
  accessTokenTtl?: number | null;
  /** Logical names for RFC 8693 `audience` (a client id may be one). */
  aliases?: string[];
  /** One alias (shorthand kept for callers that name a single one). */
  alias?: string | null;
}

const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/; // RFC 6749 §3.3 scope-token
/** An alias is sent as a form parameter and shown in tables: visible ASCII, no spaces, bounded. */
const ALIAS = /^[\x21-\x7E]{1,200}$/;
const MAX_ALIASES = 20;

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

  /** By resource indicator or by one of its logical aliases (RFC 8693 `audience`). */
  find(value: string): ResourceServer | undefined {
    return this.get(value) ?? this.all().find((server) => server.aliases.includes(value));
  }

  all(): ResourceServer[] {
    return [...this.byIdentifier.values()];
  }

  /** Creates or replaces the server with this identifier (after `refresh()`, so uniqueness is judged on current rows). */
  async upsert(input: ResourceServerInput, manager?: EntityManager): Promise<ResourceServer> {
    await this.refresh();
    const row = this.checked(input);
    await (manager ?? this.dataSource).getRepository(ResourceServer).upsert(row, ['identifier']);
    if (!manager) await this.refresh();
    return { ...(this.byIdentifier.get(row.identifier) ?? {}), ...row } as ResourceServer;
  }

  /** The row `input` describes, or a ResourceServerError saying which value is wrong. */
  private checked(input: ResourceServerInput): Omit<ResourceServer, 'createdAt' | 'updatedAt'> {
    let identifier: string;
    try {
      identifier = normaliseResourceIndicator(input.identifier);
    } catch (error) {
      throw new ResourceServerError(`identifier: ${(error as Error).message}`);
    }
    if (typeof input.name !== 'string' || !input.name.trim() || input.name.length > 200)
      throw new ResourceServerError('name must be 1 to 200 characters');
    const scopes = input.scopes ?? [];
    const bad = scopes.find((scope) => typeof scope !== 'string' || !SCOPE_TOKEN.test(scope));
    if (bad !== undefined) throw new ResourceServerError(`scopes: invalid scope name ${JSON.stringify(bad)}`);
    if (scopes.includes('openid') || scopes.includes('offline_access'))
      throw new ResourceServerError('scopes: openid and offline_access are not resource server scopes');
    const aliases = [...new Set([...(input.aliases ?? []), ...(input.alias ? [input.alias] : [])])];
    this.checkAliases(identifier, aliases);
    return {
      identifier,
      name: input.name,
      tokenFormat: input.tokenFormat ?? 'jwt',
      scopes,
      accessTokenTtl: input.accessTokenTtl ?? null,
      aliases,
    };
  }

  /** Each alias names one server: never another server's alias, nor any server's identifier. */
  private checkAliases(identifier: string, aliases: string[]): void {
    if (aliases.length > MAX_ALIASES) throw new ResourceServerError(`aliases: at most ${MAX_ALIASES}`);
    for (const alias of aliases) {
      if (typeof alias !== 'string' || !ALIAS.test(alias))
        throw new ResourceServerError(`aliases: ${JSON.stringify(alias)} must be 1 to 200 visible ASCII characters without spaces`);
      const named = this.get(alias);
      if (named || alias === identifier)
        throw new ResourceServerError(`aliases: ${alias} is the identifier of resource server ${named?.identifier ?? identifier}`);
      const owner = this.all().find((server) => server.identifier !== identifier && server.aliases.includes(alias));
      if (owner) throw new ResourceServerError(`aliases: ${alias} is already an alias of resource server ${owner.identifier}`);
    }
    // A new identifier must not be someone else's alias either.
    const shadowed = this.all().find((server) => server.identifier !== identifier && server.aliases.includes(identifier));
    if (shadowed) throw new ResourceServerError(`identifier: ${identifier} is already an alias of resource server ${shadowed.identifier}`);
  }

  async remove(identifier: string, manager?: EntityManager): Promise<boolean> {
    let normalised: string;
    try {
      normalised = normaliseResourceIndicator(identifier);
    } catch {
      return false;
    }
    const result = await (manager ?? this.dataSource).getRepository(ResourceServer).delete({ identifier: normalised });
    if (!manager) await this.refresh();
    return (result.affected ?? 0) > 0;
  }
}

/** Stores (storefront tenants). */
import type { DataSource } from 'typeorm';
import { Store } from './entities/index.js';

/** How long a hot-path slug look-up may be answered from memory. */
const CACHE_MS = 10_000;

export class StoreService {
  private readonly recent = new Map<string, { at: number; store: Store | undefined }>();

  constructor(private readonly dataSource: DataSource) {}

  /**
   * For hot paths (every token exchange resolves its storefront client's
   * store): answered from memory for a few seconds. A store's id never changes
   * for its slug, and stores are few (the slugs come from client metadata,
   * not from requests), so the map stays small.
   */
  async findBySlugRecent(slug: string): Promise<Store | undefined> {
    const hit = this.recent.get(slug);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.store;
    const store = await this.findBySlug(slug);
    this.recent.set(slug, { at: Date.now(), store });
    return store;
  }

  async findBySlug(slug: string): Promise<Store | undefined> {
    return (await this.dataSource.getRepository(Store).findOneBy({ slug })) ?? undefined;
  }

  async findById(id: string): Promise<Store | undefined> {
    return (await this.dataSource.getRepository(Store).findOneBy({ id })) ?? undefined;
  }

  async list(): Promise<Store[]> {
    return this.dataSource.getRepository(Store).find({ order: { slug: 'ASC' } });
  }

  async upsert(input: { slug: string; name: string; baseUrl?: string | null }): Promise<Store> {
    const repository = this.dataSource.getRepository(Store);
    await repository.upsert({ slug: input.slug, name: input.name, baseUrl: input.baseUrl ?? null }, ['slug']);
    return (await repository.findOneBy({ slug: input.slug }))!;
  }
}

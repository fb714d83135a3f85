/** Stores (storefront tenants). */
import type { DataSource } from 'typeorm';
import { Store } from './entities/index.js';

export class StoreService {
  constructor(private readonly dataSource: DataSource) {}

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

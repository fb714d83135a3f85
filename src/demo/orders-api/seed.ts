/**
 * The demo catalogue: eight products per store, inserted on first start.
 * `ON CONFLICT DO NOTHING` on (store, sku) makes it idempotent and safe when
 * two instances start at once. Written outside any request, so no principal.
 */
import type { DataSource } from 'typeorm';
import { Product, type StoreSlug } from './entities.js';

type Seed = [sku: string, name: string, description: string, priceCents: number];

const CATALOGUE: Record<StoreSlug, Seed[]> = {
  electronics: [
    ['EL-HEADPHONES', 'Wireless headphones', 'Over-ear, noise cancelling, 30 h battery.', 19_999],
    ['EL-KEYBOARD', 'Mechanical keyboard', 'Tenkeyless, hot-swappable switches.', 8_950],
    ['EL-MOUSE', 'Ergonomic mouse', 'Vertical grip, six buttons.', 3_999],
    ['EL-MONITOR', '27" 4K monitor', 'IPS panel, USB-C with 90 W charging.', 34_900],
    ['EL-WEBCAM', 'HD webcam', '1080p, privacy shutter.', 5_499],
    ['EL-CHARGER', 'USB-C charger 65 W', 'Two ports, GaN.', 2_999],
    ['EL-SPEAKER', 'Bluetooth speaker', 'Waterproof, 12 h battery.', 6_900],
    ['EL-SSD', 'Portable SSD 1 TB', 'USB 3.2, 1,000 MB/s.', 10_950],
  ],
  books: [
    ['BK-DDIA', 'Designing Data-Intensive Applications', 'Martin Kleppmann.', 4_599],
    ['BK-SICP', 'Structure and Interpretation of Computer Programs', 'Abelson and Sussman.', 5_500],
    ['BK-OAUTH', 'OAuth 2 in Action', 'Justin Richer and Antonio Sanso.', 4_999],
    ['BK-PRAGPROG', 'The Pragmatic Programmer', 'Hunt and Thomas, 20th anniversary edition.', 4_200],
    ['BK-REFACTOR', 'Refactoring', 'Martin Fowler, second edition.', 4_799],
    ['BK-GOS', 'Gödel, Escher, Bach', 'Douglas Hofstadter.', 2_250],
    ['BK-DUNE', 'Dune', 'Frank Herbert.', 1_199],
    ['BK-HOBBIT', 'The Hobbit', 'J. R. R. Tolkien.', 999],
  ],
};

export async function seedProducts(dataSource: DataSource): Promise<void> {
  const rows = Object.entries(CATALOGUE).flatMap(([store, items]) =>
    items.map(([sku, name, description, priceCents]) => ({
      store: store as StoreSlug,
      sku,
      name,
      description,
      priceCents,
      currency: 'USD',
    })),
  );
  await dataSource.createQueryBuilder().insert().into(Product).values(rows).orIgnore().callListeners(false).execute();
}

/**
 * The stores this one app serves, each under its own path and with its own
 * OIDC client at Behalf (`storefront-<slug>`), as registered in Behalf's
 * demo data. A store's path is also its cookie path, which is what keeps the
 * two stores' sessions apart on one origin.
 */
export interface StoreDefinition {
  /** The path segment: `/electronics/`. */
  slug: string;
  /** Shown in page titles and headings. */
  name: string;
  /** The store's client at Behalf. */
  clientId: string;
}

export const DEFAULT_STORES: readonly StoreDefinition[] = [
  { slug: 'electronics', name: 'Electronics', clientId: 'storefront-electronics' },
  { slug: 'books', name: 'Books', clientId: 'storefront-books' },
];

/** Path segments that are safe in a URL path, a cookie name and a cookie path without escaping. */
export function assertValidStores(stores: readonly StoreDefinition[]): void {
  if (!stores.length) throw new Error('storefront: at least one store is required');
  const seen = new Set<string>();
  for (const store of stores) {
    if (!/^[a-z][a-z0-9-]{0,39}$/.test(store.slug))
      throw new Error(`storefront: store slug ${JSON.stringify(store.slug)} must be lower-case letters, digits and dashes`);
    if (store.slug === 'assets') throw new Error('storefront: "assets" is reserved for static files');
    if (seen.has(store.slug)) throw new Error(`storefront: store ${store.slug} is listed twice`);
    seen.add(store.slug);
  }
}

/**
 * The fixed demo data that the README, the demo apps and the tests rely on.
 * Secrets here are public: production refuses to start with any of them.
 */
import type { BehalfClientMetadata } from '../clients/client-repository.js';
import { GRANT_TYPE } from '../../token-exchange/urns.js';

export const DEMO_PASSWORDS = {
  staff: 'Support-Demo-2026',
  admin: 'Admin-Demo-2026',
  customer: 'Customer-Demo-2026',
} as const;

export const DEMO_SECRETS = ['portal-demo-secret', 'storefront-demo-secret', 'integrator-demo-secret', 'orders-api-demo-secret'];

export const ORDERS_API = 'http://localhost:4003';

export const DEMO_STORES = [
  { slug: 'electronics', name: 'Electronics', baseUrl: 'http://localhost:4001/electronics' },
  { slug: 'books', name: 'Books', baseUrl: 'http://localhost:4001/books' },
];

export const DEMO_STAFF = [
  {
    email: 'support@example.com',
    name: 'Sam Support',
    roles: ['support'],
    password: DEMO_PASSWORDS.staff,
    loginOnBehalf: ['electronics', 'books'],
  },
  { email: 'books-support@example.com', name: 'Bea Books', roles: ['support'], password: DEMO_PASSWORDS.staff, loginOnBehalf: ['books'] },
  { email: 'viewer@example.com', name: 'Vic Viewer', roles: ['support'], password: DEMO_PASSWORDS.staff, loginOnBehalf: [] },
  { email: 'admin@example.com', name: 'Ada Admin', roles: ['admin'], password: DEMO_PASSWORDS.admin, loginOnBehalf: [] },
] as const;

export const DEMO_CUSTOMERS = [
  { firstName: 'Oleg', lastName: 'Petrov', email: 'oleg@example.com', phone: '+1 555 0100', stores: ['electronics', 'books'] },
  { firstName: 'Anna', lastName: 'Smith', email: 'anna@example.com', phone: '+1 555 0101', stores: ['electronics'] },
];

/** How many extra contacts the seed generates, so search and paging are real. */
export const GENERATED_CONTACTS = 300;

/** The downstream service the orders API calls on a customer's behalf (delegation demo). */
export const PAYMENTS_AUDIENCE = 'urn:behalf:demo:payments';

export const DEMO_RESOURCE_SERVERS = [
  { identifier: ORDERS_API, name: 'Orders API', aliases: ['orders'], tokenFormat: 'jwt' as const, scopes: ['orders:read', 'orders:write'] },
  {
    identifier: PAYMENTS_AUDIENCE,
    name: 'Payments (demo)',
    aliases: ['payments'],
    tokenFormat: 'jwt' as const,
    scopes: ['orders:read', 'orders:write'],
  },
];

export const DEMO_CLIENTS: { secret: string; metadata: BehalfClientMetadata }[] = [
  {
    secret: 'portal-demo-secret',
    metadata: {
      client_id: 'portal',
      client_name: 'Behalf Portal',
      client_kind: 'backoffice',
      first_party: true,
      redirect_uris: ['http://localhost:4002/callback'],
      post_logout_redirect_uris: ['http://localhost:4002/'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      scope: 'openid profile email offline_access directory:read',
      allowed_resources: [],
    },
  },
  ...DEMO_STORES.map((store) => ({
    secret: 'storefront-demo-secret',
    metadata: {
      client_id: `storefront-${store.slug}`,
      client_name: `${store.name} storefront`,
      client_kind: 'storefront' as const,
      store: store.slug,
      first_party: true,
      redirect_uris: [`http://localhost:4001/${store.slug}/callback`],
      post_logout_redirect_uris: [`http://localhost:4001/${store.slug}/`],
      grant_types: ['authorization_code', 'refresh_token', GRANT_TYPE],
      response_types: ['code'],
      scope: 'openid profile email offline_access',
      allowed_resources: [ORDERS_API],
      on_behalf: { resource: ORDERS_API, scope: 'orders:read orders:write', token_ttl: 600 },
      // Login on behalf: the re-authentication is pushed (RFC 9126), so the customer's id never travels in a
      // browser URL, and every on-behalf token is bound to the storefront's DPoP key (RFC 9449).
      behalf_require_par_on_behalf: true,
      behalf_require_dpop_on_behalf: true,
    },
  })),
  {
    secret: 'integrator-demo-secret',
    metadata: {
      client_id: 'integrator-demo',
      client_name: 'Integrator demo',
      client_kind: 'service' as const,
      redirect_uris: [],
      response_types: [],
      grant_types: ['client_credentials'],
      allowed_resources: [ORDERS_API],
      // client_credentials without `resource` gets a JWT for the orders API (not an opaque token with no audience).
      default_resource: ORDERS_API,
      // Tokens issued to the integrator name the orders API as the party that may act on them.
      may_act: 'orders-api',
    },
  },
  {
    secret: 'orders-api-demo-secret',
    metadata: {
      client_id: 'orders-api',
      client_name: 'Orders API',
      client_kind: 'service' as const,
      redirect_uris: [],
      response_types: [],
      grant_types: ['client_credentials', GRANT_TYPE],
      allowed_resources: [PAYMENTS_AUDIENCE],
      resource_servers: [ORDERS_API],
      // Customer tokens for the orders API may be exchanged for the payments service, acting as orders-api.
      delegation: [{ from: ORDERS_API, to: PAYMENTS_AUDIENCE }],
    },
  },
];

const FIRST_NAMES = [
  'Liam',
  'Olivia',
  'Noah',
  'Emma',
  'Mateo',
  'Sofia',
  'Lucas',
  'Mia',
  'Ivan',
  'Elena',
  'Hiro',
  'Yuki',
  'Amir',
  'Leila',
  'Kwame',
  'Ama',
  'Lars',
  'Ingrid',
  'Diego',
  'Lucia',
  'Ravi',
  'Priya',
  'Chen',
  'Mei',
  'Omar',
  'Fatima',
  'Jonas',
  'Freya',
  'Pavel',
  'Olga',
];
const LAST_NAMES = [
  'Novak',
  'Garcia',
  'Kim',
  'Müller',
  'Rossi',
  'Silva',
  'Haddad',
  'Okafor',
  'Tanaka',
  'Ivanova',
  'Johansson',
  'Patel',
  'Nguyen',
  'Kowalski',
  'Dubois',
  'Costa',
  'Andersen',
  'Moreau',
  'Schmidt',
  'Larsen',
];

export interface GeneratedContact {
  firstName: string;
  lastName: string;
  email: string;
  phone: string;
  stores: string[];
}

/** Deterministic generated contacts: the same list on every machine. */
export function generatedContacts(count = GENERATED_CONTACTS): GeneratedContact[] {
  return Array.from({ length: count }, (_, i) => {
    const firstName = FIRST_NAMES[i % FIRST_NAMES.length]!;
    const lastName = LAST_NAMES[Math.floor(i / FIRST_NAMES.length) % LAST_NAMES.length]!;
    const slugName = `${firstName}.${lastName}`
      .normalize('NFD')
      .replace(/[^A-Za-z.]/g, '')
      .toLowerCase();
    const stores = i % 5 === 0 ? ['electronics', 'books'] : i % 2 === 0 ? ['electronics'] : ['books'];
    return { firstName, lastName, email: `${slugName}.${i + 1}@example.net`, phone: `+1 555 ${String(2000 + i).padStart(4, '0')}`, stores };
  });
}

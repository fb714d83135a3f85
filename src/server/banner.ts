/** What `npm start` prints in development: where everything is and how to sign in. */
import type { Config } from '../../config/load.js';
import { embeddedDataLocation } from './db/embedded.js';
import { DEMO_PASSWORDS, DEMO_STAFF } from './seed/demo-data.js';

export function printDevelopmentBanner(config: Config, embedded: boolean, apps: Record<string, string> = {}): void {
  const lines = [
    '',
    `  Behalf is running at ${config.issuer}`,
    `    discovery: ${config.issuer}/.well-known/openid-configuration`,
    `    health:    ${config.issuer}/healthz   readiness: ${config.issuer}/readyz   metrics: ${config.issuer}/metrics`,
    `    database:  ${embedded ? `embedded PostgreSQL (data in ${embeddedDataLocation(config.database.embeddedDir)})` : 'DATABASE_URL'}`,
    ...(apps.portal ? ['', `  Portal (support staff):  ${apps.portal}/`] : []),
    ...(apps.storefront ? [`  Storefront:              ${apps.storefront}/electronics/   ${apps.storefront}/books/`] : []),
    ...(apps.orders ? [`  Orders API:              ${apps.orders}/`] : []),
    ...(apps.mail ? [`  Mail (caught, not sent): ${apps.mail}/`] : []),
    '',
    '  Demo sign-ins (development only):',
    ...DEMO_STAFF.map((member) => `    ${member.name.padEnd(12)} ${member.email.padEnd(26)} ${member.password}`),
    `    customers    oleg@example.com, anna@example.com  ${DEMO_PASSWORDS.customer}`,
    '  Demo clients: portal / portal-demo-secret, storefront-electronics and storefront-books / storefront-demo-secret,',
    '                integrator-demo / integrator-demo-secret, orders-api / orders-api-demo-secret',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

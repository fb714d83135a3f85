/** The admin APIs over clients and resource servers, wired from the app's dependencies. */
import type Router from '@koa/router';
import type { DataSource } from 'typeorm';
import type { Config } from '../../../config/load.js';
import type { AccountService } from '../../accounts/account-service.js';
import type { StoreService } from '../../accounts/store-service.js';
import type { AuditService } from '../audit-trail/audit-service.js';
import type { ClientRepository } from '../clients/client-repository.js';
import type { ResourceServerRegistry } from '../clients/resource-servers.js';
import type { OidcPort } from '../oidc/port.js';
import { clientAdminRoutes } from './client-routes.js';
import { resourceServerAdminRoutes } from './resource-server-routes.js';
import { initialAccessTokenRoutes } from './initial-access-token-routes.js';

export function clientAdministrationRoutes(deps: {
  config: Config;
  dataSource: DataSource;
  oidc: { port: OidcPort };
  accounts: AccountService;
  stores: StoreService;
  audit: AuditService;
  clients: ClientRepository;
  resourceServers: ResourceServerRegistry;
}): Router[] {
  const shared = {
    dataSource: deps.dataSource,
    clients: deps.clients,
    resourceServers: deps.resourceServers,
    stores: deps.stores,
    audit: deps.audit,
    configClients: deps.config.clients,
    oidc: deps.oidc.port,
    accounts: deps.accounts,
    maxBodyBytes: deps.config.security.maxBodyBytes,
  };
  return [clientAdminRoutes(shared), resourceServerAdminRoutes(shared), initialAccessTokenRoutes(shared)];
}

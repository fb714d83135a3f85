import type { Middleware } from 'koa';
import type { DataSource } from 'typeorm';
import type { AuditRepository } from '../../../audit/index.js';

/** What every route module needs. `auth(scopes)` is the kit's requireAuth with this API's verifier and session check. */
export interface RouteDeps {
  dataSource: DataSource;
  audit: AuditRepository;
  auth: (...scopes: string[]) => Middleware;
}

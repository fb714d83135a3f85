/**
 * Customers in control, assembled: password reset, self-registration and
 * email verification (self-service pages), built on the mail outbox.
 */
import type Router from '@koa/router';
import type { Config } from '../../../config/load.js';
import { AccountTokens } from '../../accounts/account-tokens.js';
import type { AccountService } from '../../accounts/account-service.js';
import type { StoreService } from '../../accounts/store-service.js';
import type { DataSource } from 'typeorm';
import type { AuditService } from '../audit-trail/audit-service.js';
import type { RateLimits } from '../http/rate-limits.js';
import type { MailOutbox } from '../mail/outbox.js';
import type { OidcPort, RegisteredClient } from '../oidc/port.js';
import type { Renderer } from '../views/renderer.js';
import { PasswordReset } from './password-reset.js';
import { Registration } from './registration.js';
import { selfServiceRoutes } from './self-service-routes.js';
import { AccessPolicies } from './access-policies.js';
import { Approvals } from './approvals.js';
import { approvalGate } from './approval-gate.js';
import type { ApprovalGate } from '../interactions/reauth-approval.js';
import { Reports } from './reports.js';
import { controlRoutes } from '../account-api/control-routes.js';
import { reportAdminRoutes } from '../admin/report-routes.js';

/** What the sign-in page asks of this module. */
export interface SelfServiceHooks {
  links(client: RegisteredClient): Promise<{ forgot: boolean; register: boolean }>;
  unverified(accountId: string): Promise<boolean>;
}

export interface CustomersDeps {
  config: Config;
  dataSource: DataSource;
  oidc: OidcPort;
  accounts: AccountService;
  stores: StoreService;
  audit: AuditService;
  mail: MailOutbox;
  limits: RateLimits;
  renderer: Renderer;
}

/** The approvals repository (the exchange's CustomerApprovals port, the account API's requests). */
export function createApprovals(deps: { config: Config; dataSource: DataSource; audit: AuditService; mail: MailOutbox }): Approvals {
  return new Approvals(deps.dataSource, deps.audit, deps.mail, new AccessPolicies(deps.dataSource, deps.audit), {
    requestTtlSeconds: deps.config.customers.approvalRequestTtlSeconds,
    mailEnabled: deps.config.mail.enabled,
  });
}

export interface CustomersModule {
  hooks: SelfServiceHooks;
  gate: ApprovalGate;
  approvals: Approvals;
  policies: AccessPolicies;
  routers: Router[];
  reset: PasswordReset;
  registration: Registration;
}

export function createCustomers(deps: CustomersDeps): CustomersModule {
  const { config } = deps;
  const tokens = new AccountTokens(deps.dataSource);
  const common = {
    dataSource: deps.dataSource,
    accounts: deps.accounts,
    tokens,
    audit: deps.audit,
    mail: deps.mail,
    issuer: config.issuer,
  };
  const reset = new PasswordReset({
    ...common,
    ttlSeconds: config.customers.passwordResetTtlSeconds,
    bcryptCost: config.security.bcryptCost,
  });
  const registration = new Registration({ ...common, ttlSeconds: config.customers.emailVerificationTtlSeconds });
  const mailEnabled = config.mail.enabled;
  const hooks: SelfServiceHooks = {
    async links(client) {
      if (!mailEnabled || client.kind !== 'storefront' || !client.store) return { forgot: false, register: false };
      const store = await deps.stores.findBySlugRecent(client.store);
      return { forgot: true, register: !!store && (await registration.open(store.id)) };
    },
    unverified: (accountId) => registration.unverified(accountId),
  };
  const selfService = selfServiceRoutes({
    oidc: deps.oidc,
    stores: deps.stores,
    renderer: deps.renderer,
    limits: deps.limits,
    reset,
    registration,
    secureCookies: config.issuer.startsWith('https://'),
    maxBodyBytes: config.security.maxBodyBytes,
    mailEnabled,
  });
  const policies = new AccessPolicies(deps.dataSource, deps.audit);
  const approvals = createApprovals(deps);
  const gate = approvalGate({ approvals, policies, accounts: deps.accounts, stores: deps.stores });
  const reports = new Reports(deps.dataSource, deps.audit);
  const common2 = { oidc: deps.oidc, accounts: deps.accounts, policies, reports, maxBodyBytes: config.security.maxBodyBytes };
  const routers = [selfService, controlRoutes({ ...common2, approvals }), reportAdminRoutes({ ...common2, stores: deps.stores })];
  return { hooks, gate, approvals, policies, routers, reset, registration };
}

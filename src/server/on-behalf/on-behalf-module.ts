/**
 * Login on behalf, assembled: the sessions repository (with grants from the current
 * provider), the token-exchange grant, and the sweep that closes expired
 * sessions so their end is audited and their opaque tokens die, and retries
 * grant revocations that failed.
 */
import type { Config } from '../../../config/load.js';
import type { Services } from '../services.js';
import type { TokenExchangeDependencies } from '../oidc/grants/token-exchange.js';
import type { LogoutListener } from '../oidc/audit/logout.js';
import type { OidcPort } from '../oidc/port.js';
import { OidcTokenReader } from '../exchange-adapters/token-reader.js';
import { OnBehalfRepository, type GrantPort } from './on-behalf-repository.js';
import type { TokenStatusService } from '../token-status/token-status-service.js';

export interface OnBehalfModule {
  sessions: OnBehalfRepository;
  /** What the token-exchange grant needs (src/server/oidc/grants/token-exchange.ts). */
  exchange: TokenExchangeDependencies;
  /** An agent who signs out of Behalf ends their on-behalf sessions and loses their re-authentications. */
  endOnLogout: LogoutListener;
  start(): void;
  stop(): void;
}

export function providerGrants(oidc: OidcPort): GrantPort {
  return {
    create: (accountId, clientId) => oidc.createGrant(accountId, clientId),
    revoke: (grantId) => oidc.revokeGrant(grantId),
  };
}

export function createOnBehalf(services: Services, oidc: OidcPort, config: Config, tokenStatus?: TokenStatusService): OnBehalfModule {
  const sessions = new OnBehalfRepository(services.dataSource, services.audit, providerGrants(oidc), {
    maxConcurrentSessions: config.onBehalf.maxConcurrentSessions,
    logger: services.logger,
  });
  const exchange: TokenExchangeDependencies = {
    accounts: services.accounts,
    stores: services.stores,
    resourceServers: services.resourceServers,
    onBehalf: sessions,
    tokens: new OidcTokenReader(oidc, services.dataSource, config.issuer, tokenStatus),
    audit: services.audit,
    limits: {
      reauthMaxAgeSeconds: config.onBehalf.reauthMaxAgeSeconds,
      sessionMaxSeconds: config.onBehalf.sessionMaxMinutes * 60,
      maxConcurrentSessions: config.onBehalf.maxConcurrentSessions,
    },
    requireSecondFactor: config.security.requireSecondFactorForLoginOnBehalf,
    maxChainDepth: config.delegation.maxChainDepth,
    resourceAccessTokenTtl: config.tokens.resourceAccessTokenTtl,
    logger: services.logger,
    ...(tokenStatus ? { registerStatus: (entry) => tokenStatus.register(entry) } : {}),
  };
  let timer: NodeJS.Timeout | undefined;
  return {
    sessions,
    exchange,
    endOnLogout: (accountId, meta) => sessions.endAgentSessions(accountId, accountId, 'agent_logout', meta),
    start() {
      timer = setInterval(() => {
        sessions
          .endExpired()
          .catch((error) => services.logger.warn('closing expired on-behalf sessions failed', { error }))
          // Grants whose revocation failed when their session ended (each failure is logged).
          .then(() => sessions.retryGrantRevocations())
          .catch((error) => services.logger.warn('retrying on-behalf grant revocations failed', { error }));
      }, config.onBehalf.expirySweepSeconds * 1000);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
    },
  };
}

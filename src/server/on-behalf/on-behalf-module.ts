/**
 * Login on behalf, assembled: the session store (with grants from the current
 * provider), the token-exchange grant, and the sweep that closes expired
 * sessions so their end is audited and their opaque tokens die, and retries
 * grant revocations that failed.
 */
import type { Config } from '../../../config/load.js';
import type { Services } from '../services.js';
import type { TokenExchangeDependencies } from '../oidc/grants/token-exchange.js';
import type { LogoutListener } from '../oidc/audit/logout.js';
import type { OidcPort } from '../oidc/port.js';
import { OidcTokenReader } from '../token-exchange/token-reader.js';
import { PostgresOnBehalfStore, type GrantPort } from './on-behalf-store.js';

export interface OnBehalfModule {
  store: PostgresOnBehalfStore;
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

export function createOnBehalf(services: Services, oidc: OidcPort, config: Config): OnBehalfModule {
  const store = new PostgresOnBehalfStore(services.dataSource, services.audit, providerGrants(oidc), { maxConcurrentSessions: config.onBehalf.maxConcurrentSessions, logger: services.logger });
  const exchange: TokenExchangeDependencies = {
    accounts: services.accounts,
    stores: services.stores,
    resourceServers: services.resourceServers,
    onBehalf: store,
    tokens: new OidcTokenReader(oidc, services.dataSource, config.issuer),
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
  };
  let timer: NodeJS.Timeout | undefined;
  return {
    store,
    exchange,
    endOnLogout: (accountId, meta) => store.endAgentSessions(accountId, accountId, 'agent_logout', meta),
    start() {      timer = setInterval(() => {
        store
          .endExpired()
          .catch((error) => services.logger.warn('closing expired on-behalf sessions failed', { error }))
          // Grants whose revocation failed when their session ended (each failure is logged).
          .then(() => store.retryGrantRevocations())
          .catch((error) => services.logger.warn('retrying on-behalf grant revocations failed', { error }));
      }, config.onBehalf.expirySweepSeconds * 1000);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
    },
  };
}

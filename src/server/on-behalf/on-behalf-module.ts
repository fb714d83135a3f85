/**
 * Login on behalf, assembled: the session store (with grants from the current
 * provider), the token-exchange grant, and the sweep that closes expired
 * sessions so their end is audited and their opaque tokens die, and retries
 * grant revocations that failed.
 */
import type Provider from 'oidc-provider';
import type { Config } from '../../../config/load.js';
import type { Services } from '../system.js';
import { GRANT_TYPE, TOKEN_EXCHANGE_DUPES, TOKEN_EXCHANGE_PARAMETERS, tokenExchangeHandler } from '../token-exchange/grant.js';
import { OidcTokenReader } from '../token-exchange/token-reader.js';
import { PostgresOnBehalfStore, type GrantPort } from './on-behalf-store.js';

export interface OnBehalfModule {
  store: PostgresOnBehalfStore;
  grant: { name: string; handler: ReturnType<typeof tokenExchangeHandler>; parameters: string[]; dupes: string[] };
  start(): void;
  stop(): void;
}

export function providerGrants(provider: () => Provider): GrantPort {
  return {
    async create(accountId, clientId) {
      const grant = new (provider().Grant)({ accountId, clientId });
      grant.addOIDCScope('openid');
      return grant.save();
    },
    async revoke(grantId) {
      await provider().AccessToken.revokeByGrantId(grantId);
      const grant = await provider().Grant.find(grantId);
      await grant?.destroy();
    },
  };
}

export function createOnBehalf(services: Services, provider: () => Provider, config: Config): OnBehalfModule {
  const store = new PostgresOnBehalfStore(services.dataSource, services.audit, providerGrants(provider), { maxConcurrentSessions: config.onBehalf.maxConcurrentSessions, logger: services.logger });
  const handler = tokenExchangeHandler({
    accounts: services.accounts,
    stores: services.stores,
    resourceServers: services.resourceServers,
    onBehalf: store,
    tokens: new OidcTokenReader(provider, services.dataSource, config.issuer),
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
  });
  let timer: NodeJS.Timeout | undefined;
  return {
    store,
    grant: { name: GRANT_TYPE, handler, parameters: TOKEN_EXCHANGE_PARAMETERS, dupes: TOKEN_EXCHANGE_DUPES },
    start() {
      timer = setInterval(() => {
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

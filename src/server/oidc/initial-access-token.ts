/**
 * Issues RFC 7591 initial access tokens, from the CLI or the admin API: an
 * oidc-provider InitialAccessToken (stored in oidc_payload by the Postgres
 * adapter, found there by the running servers) carrying the `integrator`
 * policy, plus the resources it allows (initial_access_token_policy).
 */
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';
import type { DataSource } from 'typeorm';
import { InitialAccessTokenPolicies } from '../clients/initial-access-tokens.js';
import { createAdapterFactory } from './adapter.js';
import { INTEGRATOR_POLICY } from './registration.js';
import type { ResourceServerRegistry } from '../clients/resource-servers.js';

export const MAX_INITIAL_ACCESS_TOKEN_SECONDS = 90 * 86_400;

/** A provider that only mints initial access tokens into the shared database (its keys are never used). */
function minter(dataSource: DataSource): Provider {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  return new Provider('https://initial-access-tokens.invalid', {
    jwks: { keys: [{ ...ec, alg: 'ES256', use: 'sig' }] } as never,
    adapter: createAdapterFactory(dataSource) as never,
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true, initialAccessToken: true, policies: { [INTEGRATOR_POLICY]: async () => undefined } },
    },
  });
}

/** Returns the token (to show once) and when it expires. `resources` are normalised resource identifiers. */
export async function issueInitialAccessToken(
  dataSource: DataSource,
  options: { resources: string[]; ttlSeconds: number; createdBy: string },
): Promise<{ token: string; expiresAt: Date }> {
  const provider = minter(dataSource);
  const iat = new provider.InitialAccessToken({ expiresIn: options.ttlSeconds, policies: [INTEGRATOR_POLICY] });
  const token = await iat.save();
  const expiresAt = new Date((iat.exp ?? Math.floor(Date.now() / 1000) + options.ttlSeconds) * 1000);
  await new InitialAccessTokenPolicies(dataSource).record(iat.jti, options.resources, options.createdBy, expiresAt);
  return { token, expiresAt };
}

/** The registered resource servers' identifiers for `resources` (identifiers or aliases); throws naming the first unknown one. */
export async function allowedResources(registry: ResourceServerRegistry, resources: unknown): Promise<string[]> {
  if (!Array.isArray(resources) || !resources.length || !resources.every((item) => typeof item === 'string'))
    throw new InitialAccessTokenError('resources must be a non-empty array of resource server identifiers');
  await registry.refresh();
  return [
    ...new Set(
      resources.map((item: string) => {
        const server = registry.find(item);
        if (!server) throw new InitialAccessTokenError(`resources: unknown resource server ${item}`);
        return server.identifier;
      }),
    ),
  ];
}

export class InitialAccessTokenError extends Error {
  override name = 'InitialAccessTokenError';
}

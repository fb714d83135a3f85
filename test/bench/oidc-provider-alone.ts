/**
 * The framework row's system under test: oidc-provider alone, with its
 * in-memory adapter and nothing of Behalf (no database, no audit), issuing
 * the same client_credentials ES256 JWT for the orders API that the baseline
 * asks Behalf for. Run as its own process, like Behalf in the bench:
 * `node dist/test/bench/oidc-provider-alone.js` with PORT; it prints `ready`.
 */
import { createServer } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import { ORDERS_API } from '../../src/server/seed/demo-data.js';

async function main(): Promise<void> {
  const port = Number(process.env.PORT);
  const issuer = `http://127.0.0.1:${port}`;
  const signing = async (alg: 'ES256' | 'RS256') => ({
    ...(await exportJWK((await generateKeyPair(alg, { extractable: true })).privateKey)),
    alg,
    use: 'sig',
    kid: alg,
  });
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'integrator-demo',
        client_secret: 'integrator-demo-secret',
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [await signing('RS256'), await signing('ES256')] },
    // Behalf's client_credentials tokens live 600 s too.
    ttl: { ClientCredentials: 600 },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => ORDERS_API,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'orders:read',
          audience: ORDERS_API,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        }),
      },
    },
  });
  createServer(provider.callback()).listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

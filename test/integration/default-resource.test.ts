/**
 * A client's default resource (`default_resource`, one of its allowed_resources):
 * client_credentials without `resource` gets a token for it (a JWT per RFC 9068
 * where that resource server takes JWTs), a delegation exchange naming neither
 * `resource` nor `audience` targets it, clients without one keep today's
 * behaviour, and a default outside allowed_resources is refused at registration.
 */
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { runCli } from '../../src/cli/index.js';
import { registerClient } from '../../src/server/clients/register.js';
import type { BehalfClientMetadata } from '../../src/server/clients/client-repository.js';
import { createServices } from '../../src/server/system.js';
import { startBehalfWithClients, testConfig, type RunningBehalf } from '../support/behalf.js';
import { createDelegationDatabase, delegate, ORDERS, PAYMENTS, SHIPPING, verifiedToken } from '../support/delegation.js';
import { basic, postForm, tokenRequest } from '../support/oauth.js';
import { TOKEN_EXCHANGE } from '../support/on-behalf.js';

const tool = (clientId: string, extra: Partial<BehalfClientMetadata>): BehalfClientMetadata => ({
  client_id: clientId,
  client_kind: 'service',
  redirect_uris: [],
  response_types: [],
  grant_types: ['client_credentials', TOKEN_EXCHANGE],
  allowed_resources: [ORDERS, SHIPPING],
  // A test tool exchanging its own tokens: it operates the orders API and may delegate them to the
  // orders API itself (its baseline exchange) or to shipping.
  resource_servers: [ORDERS],
  delegation: [
    { from: ORDERS, to: ORDERS },
    { from: ORDERS, to: SHIPPING },
  ],
  ...extra,
});

let running: RunningBehalf;

beforeAll(async () => {
  running = await startBehalfWithClients(
    [
      // The trailing slash is normalised away, as in allowed_resources.
      { metadata: tool('default-tool', { default_resource: `${ORDERS}/` }), secret: 'default-tool-secret' },
      { metadata: tool('plain-tool', {}), secret: 'plain-tool-secret' },
      { metadata: tool('default-peer', { default_resource: ORDERS }), secret: 'default-peer-secret' },
    ],
    await createDelegationDatabase(),
  );
});
afterAll(async () => {
  await running?.stop();
});

const secret = (clientId: string) => `${clientId}-secret`;

function clientCredentials(clientId: string, params: Record<string, string> = {}) {
  const known = clientId === 'integrator-demo' ? 'integrator-demo-secret' : secret(clientId);
  return tokenRequest(running.issuer, clientId, known, { grant_type: 'client_credentials', ...params });
}

async function verify(token: string, audience: string) {
  return jwtVerify(token, createRemoteJWKSet(new URL(`${running.issuer}/jwks`)), {
    issuer: running.issuer,
    audience,
    typ: 'at+jwt',
    algorithms: ['ES256'],
  });
}

describe('client_credentials', () => {
  it('without resource: an RFC 9068 JWT for the default resource (the demo integrator, as the README’s curl shows)', async () => {
    const response = await clientCredentials('integrator-demo');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ token_type: 'Bearer' });
    const { payload, protectedHeader } = await verify(String(response.body.access_token), ORDERS);
    expect(protectedHeader).toMatchObject({ typ: 'at+jwt', alg: 'ES256' });
    expect(payload).toMatchObject({ aud: ORDERS, client_id: 'integrator-demo', sub: 'integrator-demo', iss: running.issuer });
  });

  it('without resource, with scope: the default resource’s scopes', async () => {
    const response = await clientCredentials('default-tool', { scope: 'orders:read' });
    expect(response.status).toBe(200);
    expect(response.body.scope).toBe('orders:read');
    const { payload } = await verify(String(response.body.access_token), ORDERS);
    expect(payload).toMatchObject({ aud: ORDERS, scope: 'orders:read' });
  });

  it('with another allowed resource: that one, not the default', async () => {
    const response = await clientCredentials('default-tool', { resource: SHIPPING, scope: 'orders:read' });
    expect(response.status).toBe(200);
    const { payload } = await verify(String(response.body.access_token), SHIPPING);
    expect(payload.aud).toBe(SHIPPING);
  });

  it('with a resource the client may not have: still invalid_target (the default does not widen anything)', async () => {
    const response = await clientCredentials('default-tool', { resource: PAYMENTS });
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_target');
  });

  it('a client without a default: an opaque token with no audience, as before', async () => {
    const response = await clientCredentials('plain-tool');
    expect(response.status).toBe(200);
    const token = String(response.body.access_token);
    expect(token).not.toContain('.');
    const introspection = await postForm(`${running.issuer}/token/introspection`, new URLSearchParams({ token }), {
      authorization: basic('plain-tool', secret('plain-tool')),
    });
    expect(introspection.body).toMatchObject({ active: true, client_id: 'plain-tool' });
    expect(introspection.body.aud).toBeUndefined();
  });
});

describe('delegation (token exchange)', () => {
  /** A token for the orders API of another client (a client's own token cannot be delegated back to it: a loop). */
  async function tokenOf(clientId: string): Promise<string> {
    const response = await clientCredentials(clientId, { resource: ORDERS, scope: 'orders:read' });
    expect(response.status).toBe(200);
    return String(response.body.access_token);
  }

  it('without resource or audience: the default resource (a new integrator’s baseline exchange)', async () => {
    const subject = await tokenOf('plain-tool');
    const response = await tokenRequest(running.issuer, 'default-tool', secret('default-tool'), {
      grant_type: TOKEN_EXCHANGE,
      subject_token: subject,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    });
    expect(response.status).toBe(200);
    const payload = await verifiedToken(running, response, ORDERS);
    expect(payload).toMatchObject({ aud: ORDERS, sub: 'plain-tool', client_id: 'default-tool', act: { sub: 'default-tool' } });
  });

  it('a subject token got without resource (so by default) can be exchanged without naming a target', async () => {
    const first = await clientCredentials('default-peer', { scope: 'orders:read' });
    expect(decodeJwt(String(first.body.access_token)).aud).toBe(ORDERS);
    const response = await tokenRequest(running.issuer, 'default-tool', secret('default-tool'), {
      grant_type: TOKEN_EXCHANGE,
      subject_token: String(first.body.access_token),
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    });
    expect(response.status).toBe(200);
    expect((await verifiedToken(running, response, ORDERS)).aud).toBe(ORDERS);
  });

  it('a named resource still wins over the default', async () => {
    const subject = await tokenOf('plain-tool');
    const response = await tokenRequest(running.issuer, 'default-tool', secret('default-tool'), {
      grant_type: TOKEN_EXCHANGE,
      subject_token: subject,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      audience: 'shipping',
    });
    expect(response.status).toBe(200);
    expect((await verifiedToken(running, response, SHIPPING)).aud).toBe(SHIPPING);
  });

  it('a client without a default: two possible targets stay ambiguous (invalid_target), as before', async () => {
    const subject = await tokenOf('default-tool');
    const response = await tokenRequest(running.issuer, 'plain-tool', secret('plain-tool'), {
      grant_type: TOKEN_EXCHANGE,
      subject_token: subject,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    });
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_target');
    expect(String(response.body.error_description)).toMatch(/name the target with resource or audience/);
  });

  it('the demo path without a default is unchanged (orders-api’s only rule target)', async () => {
    const subject = await clientCredentials('integrator-demo', { scope: 'orders:read' });
    const response = await delegate(running, 'orders-api', String(subject.body.access_token));
    expect(response.status).toBe(200);
    expect((await verifiedToken(running, response, PAYMENTS)).aud).toBe(PAYMENTS);
  });
});

describe('registration', () => {
  interface Result {
    code: number;
    stdout: string;
    stderr: string;
  }
  async function cli(...argv: string[]): Promise<Result> {
    const result = { code: 0, stdout: '', stderr: '' };
    const io = {
      stdout: { write: (text: string) => (result.stdout += text) },
      stderr: { write: (text: string) => (result.stderr += text) },
    };
    result.code = await runCli(argv, io, { env: { NODE_ENV: 'test', DATABASE_URL: running.database.url } });
    return result;
  }

  it('the CLI refuses a default resource that is not among the client’s resources, saying so', async () => {
    const result = await cli('clients', 'create', 'bad-default', '--resource', SHIPPING, '--default-resource', ORDERS);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^behalf: --default-resource http:\/\/localhost:4003 must also be one of the resources/);
    expect((await cli('clients', 'show', 'bad-default')).code).toBe(1);
  });

  it('the CLI creates a client with a default resource and shows it', async () => {
    const created = await cli('clients', 'create', 'good-default', '--resource', ORDERS, SHIPPING, '--default-resource', `${ORDERS}/`);
    expect(created).toMatchObject({ code: 0, stderr: '' });
    const shown = await cli('clients', 'show', 'good-default');
    expect(shown.stdout).toMatch(/default resource:\s+http:\/\/localhost:4003\/?\n/);
    const json = JSON.parse((await cli('clients', 'show', 'good-default', '--json')).stdout) as Record<string, unknown>;
    expect(json.default_resource).toMatch(/^http:\/\/localhost:4003\/?$/);
  });

  it('registration (any path, through the metadata validation) refuses it too', async () => {
    const services = await createServices(testConfig(running.database.url, 'http://127.0.0.1'));
    try {
      await expect(registerClient(services, tool('bad-default-2', { default_resource: PAYMENTS }), 'bad-default-2-secret')).rejects.toThrow(
        /default_resource urn:behalf:demo:payments must also be in allowed_resources/,
      );
      await expect(
        registerClient(services, tool('bad-default-3', { default_resource: 'not a uri' }), 'bad-default-3-secret'),
      ).rejects.toThrow(/default_resource/);
    } finally {
      await services.database.close();
    }
  });
});

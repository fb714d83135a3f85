/**
 * Client authentication for Behalf's own back-channel endpoints (ending and
 * checking on-behalf sessions): HTTP Basic with the client's id and secret,
 * form-urlencoded as RFC 6749 §2.3.1 says, compared in constant time.
 */
import type { Context, Next } from 'koa';
import { answerTemporarilyUnavailable, isDatabaseUnavailable } from '../oidc/database-outage.js';
import type { OidcPort, RegisteredClient } from '../oidc/port.js';

declare module 'koa' {
  interface DefaultState {
    client?: RegisteredClient;
  }
}

function decode(part: string): string | undefined {
  try {
    return decodeURIComponent(part.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

function refuse(ctx: Context): void {
  ctx.status = 401;
  ctx.set('WWW-Authenticate', 'Basic realm="behalf"');
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { error: 'invalid_client', error_description: 'client authentication failed (use HTTP Basic with the client id and secret)' };
}

export function requireClient(oidc: OidcPort) {
  return async function authenticateClient(ctx: Context, next: Next): Promise<void> {
    const match = /^Basic ([A-Za-z0-9+/]+=*)$/.exec(ctx.get('authorization'));
    if (!match) return refuse(ctx);
    const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const clientId = colon > 0 ? decode(decoded.slice(0, colon)) : undefined;
    const secret = colon > 0 ? decode(decoded.slice(colon + 1)) : undefined;
    if (!clientId || !secret || clientId.length > 200 || clientId.includes('\u0000')) return refuse(ctx);
    let client: RegisteredClient | undefined;
    try {
      client = await oidc.authenticateClient(clientId, secret);
    } catch (error) {
      // The client could not be looked up, which is not a failed authentication: during an outage
      // a 401 would tell the caller its credentials are wrong. A client whose stored metadata no
      // longer validates stays refused.
      if (isDatabaseUnavailable(error)) return answerTemporarilyUnavailable(ctx);
      return refuse(ctx);
    }
    if (!client) return refuse(ctx);
    ctx.state.client = client;
    await next();
  };
}

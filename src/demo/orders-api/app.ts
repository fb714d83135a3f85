/**
 * The demo Orders API: a resource server built only on the kit
 * (src/resource-server) and the audit trail (src/audit). It knows Behalf
 * only through public interfaces: the issuer's JWKS, introspection and the
 * on-behalf session status endpoint.
 */
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import { serve, type Served } from '../shared/http-server.js';
import Koa, { type Context } from 'koa';
import type { DataSource } from 'typeorm';
import type { JWK } from 'jose';
import { AuditRepository, AuditSequencer, jwkTreeHeadSigner } from '../../audit/index.js';
import {
  createAccessTokenVerifier,
  createSessionStatusChecker,
  requireAuth,
  sqlReplayStore,
  type StatusListOptions,
  type VerifierOptions,
} from '../../resource-server/index.js';
import { DEFAULT_RESOURCE } from './config.js';
import { attachKitSubscribers, createOrdersDataSource, ORDERS_AUDIT_TABLE } from './data-source.js';
import { apiHeaders, errorHandler, strictCors } from './http.js';
import { migrateOrders } from './migrate.js';
import { accountRoutes } from './routes/account.js';
import { indexRoutes } from './routes/index-page.js';
import { cartRoutes } from './routes/cart.js';
import type { RouteDeps } from './routes/deps.js';
import { orderRoutes } from './routes/orders.js';
import { productRoutes } from './routes/products.js';
import { seedProducts } from './seed.js';

export interface OrdersApiOptions {
  /** Behalf's issuer URL. */
  issuer: string;
  databaseUrl: string;
  /** Default http://localhost:4003 (what Behalf puts in `aud`). */
  resource?: string;
  clientId?: string;
  clientSecret?: string;
  /** Default ['http://localhost:4001'] (the storefront). */
  corsOrigins?: string[];
  /** How long a session's "active" answer is reused (default 5 s): an ended session is refused within this. */
  sessionStatusCacheSeconds?: number;
  /** Behalf's token status list: refetched every 4 s (a revoked token is refused within 5 s), tokens refused (503) once it is 60 s stale (defaults). */
  statusList?: StatusListOptions;
  /** Default 16 KiB. */
  maxBodyBytes?: number;
  /** Default true: apply migrations at start. */
  migrate?: boolean;
  /** Unexpected errors (the 500s); default console.error. */
  onError?: (error: unknown, ctx: Context) => void;
  /** Override the key source (tests). */
  keys?: VerifierOptions['keys'];
  /** This API's public base URL behind a proxy (DPoP `htu`); default: the request's own origin. */
  publicUrl?: string;
  /** A private JWK (with kid and alg: ES256 or EdDSA) that signs the audit log's tree heads; none: sequenced, unsigned. */
  auditTreeHeadKey?: JWK;
  /** The `iss` of those heads (default: the resource URL). */
  auditIssuer?: string;
}

/** The app, and `listen`/`close` from the shared server helper. */
export interface OrdersApi extends Served {
  app: Koa;
  dataSource: DataSource;
  sequencer: AuditSequencer;
}

function defaultOnError(error: unknown, ctx: Context): void {
  console.error(`orders-api: ${ctx.method} ${ctx.path} failed:`, error);
}

export async function createOrdersApi(options: OrdersApiOptions): Promise<OrdersApi> {
  const issuer = options.issuer.replace(/\/+$/, '');
  const clientId = options.clientId ?? 'orders-api';
  const clientSecret = options.clientSecret ?? 'orders-api-demo-secret';
  const maxBodyBytes = options.maxBodyBytes ?? 16_384;

  const dataSource = createOrdersDataSource(options.databaseUrl);
  await dataSource.initialize();
  try {
    if (options.migrate ?? true) await migrateOrders(dataSource, options.databaseUrl);
    attachKitSubscribers(dataSource);
    await seedProducts(dataSource);
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }

  const verifier = createAccessTokenVerifier({
    issuer,
    audience: options.resource ?? DEFAULT_RESOURCE,
    // Opaque tokens too, should Behalf be configured to issue them for this API.
    introspection: { clientId, clientSecret },
    // Every JWT's entry in Behalf's token status list: a revoked token is refused within refreshSeconds.
    statusList: { refreshSeconds: 4, maxStaleSeconds: 60, ...options.statusList },
    ...(options.keys ? { keys: options.keys } : {}),
    // DPoP-bound on-behalf tokens (RFC 9449): one proof per request, each jti once across every instance.
    dpop: {
      replay: sqlReplayStore((sql, params) => dataSource.query(sql, params), { table: 'orders_dpop_replay' }),
      ...(options.publicUrl ? { publicUrl: options.publicUrl } : {}),
    },
  });
  const sessionStatus = createSessionStatusChecker({
    issuer,
    clientId,
    clientSecret,
    cacheSeconds: options.sessionStatusCacheSeconds ?? 5,
  });
  const deps: RouteDeps = {
    dataSource,
    audit: new AuditRepository(dataSource, ORDERS_AUDIT_TABLE),
    auth: (...scopes) => requireAuth({ verifier, sessionStatus, scopes, realm: 'orders-api' }),
  };

  const app = new Koa();
  app.silent = true;
  app.use(errorHandler(maxBodyBytes, options.onError ?? defaultOnError));
  app.use(apiHeaders);
  app.use(strictCors(options.corsOrigins ?? ['http://localhost:4001']));
  // JSON only; strict: a body must be an object or array. The limit answers 413 beyond it.
  app.use(bodyParser({ enableTypes: ['json'], jsonLimit: maxBodyBytes, jsonStrict: true, encoding: 'utf-8' }));

  const health = new Router();
  health.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  const index = indexRoutes({ issuer, resource: options.resource ?? DEFAULT_RESOURCE });
  for (const router of [health, index, productRoutes(deps), cartRoutes(deps), orderRoutes(deps), accountRoutes(deps)]) {
    app.use(router.routes()).use(router.allowedMethods({ throw: true }));
  }

  // The audit log's sequencer: one per cluster of orders API instances works, the others stand by (README "Audit log").
  const signer =
    options.auditTreeHeadKey && jwkTreeHeadSigner(options.auditTreeHeadKey, options.auditIssuer ?? options.resource ?? DEFAULT_RESOURCE);
  const sequencer = new AuditSequencer(dataSource, ORDERS_AUDIT_TABLE, signer ? { signer: async () => signer } : {});
  sequencer.start();

  const served = serve(app);
  return {
    app,
    dataSource,
    sequencer,
    listen: served.listen,
    async close() {
      await served.close();
      await sequencer.stop();
      if (dataSource.isInitialized) await dataSource.destroy();
    },
  };
}

import type { BehalfApi } from './behalf-api.js';
import type { OidcClients } from './oidc.js';
import type { OrdersApi } from './orders-api.js';
import type { Renderer } from './render.js';
import type { Session, BrowserSessions } from './browser-sessions.js';
import type { StoreDefinition } from './stores.js';

declare module 'koa' {
  interface DefaultState {
    /** The browser's storefront session for the current store, if any. */
    session?: Session;
  }
}

/** What every piece of a store's request handling needs; one per store. */
export interface StoreDeps {
  store: StoreDefinition;
  sessions: BrowserSessions;
  oidc: OidcClients;
  behalf: BehalfApi;
  orders: OrdersApi;
  render: Renderer;
  /** The orders API's resource identifier (what its tokens' `aud` says). */
  ordersResource: string;
  /** How long Behalf's "the on-behalf session is active" answer is trusted. */
  statusCacheMs: number;
  /** Tokens are renewed when less than this is left. */
  renewBeforeMs: number;
  /** The support portal: agents' way back after an on-behalf session ends, is refused or cancelled. */
  portalUrl: string;
}

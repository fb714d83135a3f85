/** Serving a demo app's Koa handler: bounded timeouts, a URL to print, a close that does not wait for idle browsers. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';

export interface Served {
  listen(port?: number, host?: string): Promise<{ url: string; server: Server }>;
  /** Stops accepting and drops open connections. */
  close(): Promise<void>;
}

export function serve(app: Koa): Served {
  let server: Server | undefined;
  return {
    async listen(port = 0, host = '127.0.0.1') {
      server = createServer(app.callback());
      // Bound request time and header size: a slow client cannot hold a connection forever.
      server.requestTimeout = 30_000;
      server.headersTimeout = 10_000;
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(port, host, resolve);
      });
      const address = server.address() as AddressInfo;
      return { url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`, server };
    },
    async close() {
      if (!server) return;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server!.close(() => resolve()));
    },
  };
}

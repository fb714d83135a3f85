/**
 * oidc-provider fixes its keystore at construction, so a key rotation means a
 * new Provider. The holder keeps the current one, polls the database for key
 * and resource-server changes, and swaps providers between requests. All
 * provider state lives in PostgreSQL, so a swap loses nothing.
 */
import type Provider from 'oidc-provider';
import type { DataSource } from 'typeorm';
import type { ResourceServerRegistry } from '../clients/resource-servers.js';
import { keysFingerprint, loadKeystore, type Keystore } from '../keys/key-store.js';
import type { Sealer } from '../secrets/sealer.js';
import type { Logger } from '../observability/logger.js';

export class StartupError extends Error {
  override name = 'StartupError';
}

export interface ProviderHolderOptions {
  dataSource: DataSource;
  sealer: Sealer;
  resourceServers: ResourceServerRegistry;
  logger: Logger;
  build: (keystore: Keystore) => Provider;
  clientIds: () => Promise<string[]>;
  refreshIntervalMs: number;
}

export class ProviderHolder {
  private provider!: Provider;
  private fingerprint = '';
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private readonly listeners: ((provider: Provider) => void)[] = [];

  constructor(private readonly options: ProviderHolderOptions) {}

  get current(): Provider {
    return this.provider;
  }

  /** Called with each new provider (to attach event listeners). */
  onProvider(listener: (provider: Provider) => void): void {
    this.listeners.push(listener);
    if (this.provider) listener(this.provider);
  }

  async start(): Promise<void> {
    await this.options.resourceServers.refresh();
    await this.rebuild();
    await validateClients(this.provider, await this.options.clientIds());
    this.timer = setInterval(() => void this.refresh(), this.options.refreshIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Picks up rotated keys and changed resource servers; safe to call at any time. */
  async refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        await this.options.resourceServers.refresh();
        if ((await keysFingerprint(this.options.dataSource)) !== this.fingerprint) {
          await this.rebuild();
          this.options.logger.info('signing keys changed; provider keystore rebuilt', { event: 'keys.reloaded', keys: this.fingerprint });
        }
      } catch (error) {
        this.options.logger.warn('key refresh failed; keeping the current keystore', { error });
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  private async rebuild(): Promise<void> {
    const keystore = await loadKeystore(this.options.dataSource, this.options.sealer);
    const provider = this.options.build(keystore);
    for (const listener of this.listeners) listener(provider);
    this.provider = provider;
    this.fingerprint = keystore.fingerprint;
  }
}

/** Loads every client once so a bad registration stops the start instead of failing at first use. */
export async function validateClients(provider: Provider, clientIds: string[]): Promise<void> {
  for (const clientId of clientIds) {
    try {
      const client = await provider.Client.find(clientId);
      if (!client) throw new Error('not found');
    } catch (error) {
      const message = (error as { error_description?: string; message?: string }).error_description ?? (error as Error).message;
      throw new StartupError(`client ${clientId} is invalid: ${message}`);
    }
  }
}

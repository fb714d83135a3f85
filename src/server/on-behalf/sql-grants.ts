/**
 * Grant revocation without a running provider (the CLI): the same rows
 * oidc-provider's `revokeByGrantId` and `Grant#destroy` remove, and the grant's
 * JWT access tokens' status entries (token-status-store.ts).
 */
import type { DataSource } from 'typeorm';
import type { GrantPort } from './grant-port.js';
import { revokeTokens } from '../token-status/token-status-store.js';

export function sqlGrants(dataSource: DataSource): GrantPort {
  return {
    async create() {
      throw new Error('sessions are opened by the running server, not the CLI');
    },
    async revoke(grantId) {
      await dataSource.transaction(async (manager) => {
        await manager.query(`DELETE FROM oidc_payload WHERE grant_id = $1 OR (model = 'Grant' AND id = $1)`, [grantId]);
        await revokeTokens(manager, { grantId }, 'grant_revoked');
      });
    },
  };
}

/**
 * What each RFC 7591 initial access token allows a registration: the
 * resources the registered client may ask tokens for. The token itself is an
 * oidc-provider model (oidc_payload); this row is keyed by the same id.
 */
import type { DataSource } from 'typeorm';

export class InitialAccessTokenPolicies {
  constructor(private readonly dataSource: DataSource) {}

  async record(id: string, resources: string[], createdBy: string, expiresAt: Date): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO initial_access_token_policy (id, allowed_resources, created_by, expires_at) VALUES ($1, $2, $3, $4)`,
      [id, resources, createdBy, expiresAt],
    );
  }

  /** The resources the (unexpired) token allows; undefined when it has no policy. */
  async allowance(id: string): Promise<string[] | undefined> {
    if (id.length > 200 || id.includes('\u0000')) return undefined;
    const [row] = (await this.dataSource.query(
      `SELECT allowed_resources FROM initial_access_token_policy WHERE id = $1 AND expires_at > now()`,
      [id],
    )) as { allowed_resources: string[] }[];
    return row?.allowed_resources;
  }
}

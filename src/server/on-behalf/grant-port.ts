/** How on-behalf sessions reach grants: the running provider's (on-behalf-module.ts) or plain SQL for the CLI (sql-grants.ts). */
export interface GrantPort {
  /** A fresh grant for the customer at the client: every token of the session shares it. */
  create(accountId: string, clientId: string): Promise<string>;
  /** Destroys the grant and every opaque token issued under it. */
  revoke(grantId: string): Promise<void>;
}

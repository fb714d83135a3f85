/** The static scopes Behalf knows (resource servers' scopes are theirs, not in this list). */
export const SUPPORTED_SCOPES: readonly string[] = ['openid', 'offline_access', 'profile', 'email', 'directory:read'];

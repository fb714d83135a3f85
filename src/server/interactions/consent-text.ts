/** Human words for what a consent screen asks. */
const SCOPE_TEXT: Record<string, string> = {
  openid: 'Know who you are',
  profile: 'See your name and username',
  email: 'See your email address',
  offline_access: 'Stay signed in when you are not using it',
};

export function describeConsent(details: Record<string, unknown>): string[] {
  const items: string[] = [];
  for (const scope of (details.missingOIDCScope as string[] | undefined) ?? []) items.push(SCOPE_TEXT[scope] ?? `Use "${scope}"`);
  for (const claim of (details.missingOIDCClaims as string[] | undefined) ?? []) items.push(`See your ${claim.replace(/_/g, ' ')}`);
  for (const [resource, scopes] of Object.entries((details.missingResourceScopes as Record<string, string[]> | undefined) ?? {})) {
    items.push(`Use ${resource} with: ${scopes.join(', ')}`);
  }
  return items.length ? items : ['Sign you in'];
}

/**
 * Why "Login on behalf" is not offered for an account, in words for the
 * agent. Behalf's directory gives the policy's own reason
 * (`on_behalf_refusal`); without it (an older Behalf) the portal falls back
 * on what the account row shows.
 */
export interface RefusedAccount {
  store: { slug: string; name: string } | null;
  status: string;
  on_behalf_refusal?: string | null;
}

export function loginRefusalText(account: RefusedAccount): string {
  const store = account.store?.name;
  switch (account.on_behalf_refusal ?? fallbackReason(account)) {
    case 'no_permission':
      return store ? `No permission for ${store}` : 'No permission for this store';
    case 'target_inactive':
      return account.status === 'disabled' ? 'Account disabled' : account.status === 'locked' ? 'Account locked' : 'Account not active';
    case 'privileged_target':
    case 'target_not_customer':
      return 'Not a customer account';
    case 'self_target':
      return 'Your own account';
    case 'agent_inactive':
      return 'Your account may not log in on behalf';
    default:
      return 'Not allowed by Behalf’s policy';
  }
}

function fallbackReason(account: RefusedAccount): string {
  if (!account.store) return 'privileged_target';
  if (account.status === 'disabled') return 'target_inactive';
  return 'no_permission';
}

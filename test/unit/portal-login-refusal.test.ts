/** Why the portal shows no "Login on behalf" button, in words: from Behalf's reason, or from the row when Behalf gives none. */
import { loginRefusalText } from '../../src/demo/portal/login-refusal.js';

const electronics = { slug: 'electronics', name: 'Electronics' };

it.each([
  [{ store: electronics, status: 'active', on_behalf_refusal: 'no_permission' }, 'No permission for Electronics'],
  [{ store: electronics, status: 'disabled', on_behalf_refusal: 'target_inactive' }, 'Account disabled'],
  [{ store: electronics, status: 'locked', on_behalf_refusal: 'target_inactive' }, 'Account locked'],
  [{ store: null, status: 'active', on_behalf_refusal: 'privileged_target' }, 'Not a customer account'],
  [{ store: electronics, status: 'active', on_behalf_refusal: 'target_not_customer' }, 'Not a customer account'],
  [{ store: electronics, status: 'active', on_behalf_refusal: 'something_new' }, 'Not allowed by Behalf’s policy'],
  // An older Behalf without on_behalf_refusal.
  [{ store: null, status: 'active' }, 'Not a customer account'],
  [{ store: electronics, status: 'disabled' }, 'Account disabled'],
  [{ store: electronics, status: 'active' }, 'No permission for Electronics'],
])('%j → %s', (account, text) => {
  expect(loginRefusalText(account)).toBe(text);
});

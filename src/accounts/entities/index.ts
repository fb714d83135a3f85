export { Store } from './store.js';
export { Contact } from './contact.js';
export {
  Account,
  AccountRole,
  PermissionGrant,
  ROLES,
  PERMISSIONS,
  type AccountStatus,
  type RoleName,
  type Permission,
} from './account.js';

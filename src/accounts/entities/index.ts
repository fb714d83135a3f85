export { Store } from './store.js';
export { Contact } from './contact.js';
export { Account, type AccountStatus } from './account.js';
export { AccountRole, ROLES, type RoleName } from './account-role.js';
export { PermissionGrant, PERMISSIONS, type Permission } from './permission-grant.js';

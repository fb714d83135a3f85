/** Every migration, in order. Listed explicitly so the same list works from src (tests) and dist. */
import { InitialSchema1795531125052 } from './1795531125052-initial-schema.js';
import { AuditTrail1795531940838 } from './1795531940838-audit-trail.js';
import { OnBehalf1795533000000 } from './1795533000000-on-behalf.js';
import { RateLimits1795534000000 } from './1795534000000-rate-limits.js';
import { TotpRecovery1795535000000 } from './1795535000000-totp-recovery.js';
import { AuditTypePrefix1795536000000 } from './1795536000000-audit-type-prefix.js';
import { ContactNamePrefix1795537000000 } from './1795537000000-contact-name-prefix.js';
import { RuntimeRole1795538000000 } from './1795538000000-runtime-role.js';
import { GrantRevocationQueue1795539500000 } from './1795539500000-grant-revocation-queue.js';
import { ReauthGrantRevocation1795539800000 } from './1795539800000-reauth-grant-revocation.js';
import { ClientAdministration1795540000000 } from './1795540000000-client-administration.js';
import { TokenStatus1795541000000 } from './1795541000000-token-status.js';
import { CustomersInControl1795544000000 } from './1795544000000-customers-in-control.js';
import { AuditMerkleLog1795543000000 } from './1795543000000-audit-merkle-log.js';
import { AuditPagingIndexes1795545000000 } from './1795545000000-audit-paging-indexes.js';

export const migrations = [
  InitialSchema1795531125052,
  AuditTrail1795531940838,
  OnBehalf1795533000000,
  RateLimits1795534000000,
  TotpRecovery1795535000000,
  AuditTypePrefix1795536000000,
  ContactNamePrefix1795537000000,
  RuntimeRole1795538000000,
  GrantRevocationQueue1795539500000,
  ReauthGrantRevocation1795539800000,
  ClientAdministration1795540000000,
  TokenStatus1795541000000,
  AuditMerkleLog1795543000000,
  CustomersInControl1795544000000,
  AuditPagingIndexes1795545000000,
];

/**
 * A login (an account) with its roles and store-scoped permissions: one
 * aggregate in one module, since each entity names the others in its
 * relations (separate files imported each other in a cycle).
 */
import {
  Column,
  CreateDateColumn,
  Entity,
  JoinColumn,
  ManyToOne,
  OneToMany,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import type { Relation } from 'typeorm';
import { Contact } from './contact.js';
import { Store } from './store.js';

export const ROLES = ['customer', 'support', 'admin'] as const;
export type RoleName = (typeof ROLES)[number];

@Entity('account_role')
export class AccountRole {
  @PrimaryColumn('uuid', { name: 'account_id' }) accountId!: string;
  @PrimaryColumn('varchar', { length: 32 }) role!: RoleName;
  @ManyToOne(() => Account, (account) => account.roles, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'account_id' })
  account?: Relation<Account>;
}

export const PERMISSIONS = ['security:loginOnBehalf'] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** A store-scoped permission held by an account; `storeId` null means every store. */
@Entity('permission_grant')
export class PermissionGrant {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid', { name: 'account_id' }) accountId!: string;
  @ManyToOne(() => Account, (account) => account.permissions, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'account_id' })
  account?: Relation<Account>;
  @Column('varchar', { length: 100 }) permission!: Permission;
  @Column('uuid', { name: 'store_id', nullable: true }) storeId!: string | null;
  @CreateDateColumn({ name: 'granted_at', type: 'timestamptz' }) grantedAt!: Date;
}

export type AccountStatus = 'active' | 'locked' | 'disabled';

/** A login. Its id is the OIDC `sub`. Staff accounts have no store. */
@Entity('account')
export class Account {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid', { name: 'store_id', nullable: true }) storeId!: string | null;
  @ManyToOne(() => Store, { nullable: true }) @JoinColumn({ name: 'store_id' }) store?: Relation<Store> | null;
  @Column('uuid', { name: 'contact_id', nullable: true }) contactId!: string | null;
  @ManyToOne(() => Contact, { nullable: true }) @JoinColumn({ name: 'contact_id' }) contact?: Relation<Contact> | null;
  /** Lower-cased sign-in name (an email address for the demo data). */
  @Column('varchar', { length: 320 }) username!: string;
  @Column('varchar', { length: 320, nullable: true }) email!: string | null;
  @Column('varchar', { name: 'display_name', length: 400 }) displayName!: string;
  @Column('varchar', { name: 'password_hash', length: 100, nullable: true, select: false }) passwordHash?: string | null;
  @Column('varchar', { length: 16, default: 'active' }) status!: AccountStatus;
  @Column('integer', { name: 'failed_login_count', default: 0 }) failedLoginCount!: number;
  @Column('timestamptz', { name: 'locked_until', nullable: true }) lockedUntil!: Date | null;
  @Column('text', { name: 'totp_secret_encrypted', nullable: true, select: false }) totpSecretEncrypted?: string | null;
  @Column('timestamptz', { name: 'password_changed_at', nullable: true }) passwordChangedAt!: Date | null;
  @Column('timestamptz', { name: 'last_login_at', nullable: true }) lastLoginAt!: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
  @OneToMany(() => AccountRole, (role) => role.account) roles?: Relation<AccountRole>[];
  @OneToMany(() => PermissionGrant, (grant) => grant.account) permissions?: Relation<PermissionGrant>[];
}

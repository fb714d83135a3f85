import { Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, OneToMany, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { Relation } from 'typeorm';
import { Contact } from './contact.js';
import { Store } from './store.js';
import { AccountRole } from './account-role.js';
import { PermissionGrant } from './permission-grant.js';

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

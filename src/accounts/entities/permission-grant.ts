import { Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import type { Relation } from 'typeorm';
import { Account } from './account.js';

export const PERMISSIONS = ['security:loginOnBehalf'] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** A store-scoped permission held by an account; `storeId` null means every store. */
@Entity('permission_grant')
export class PermissionGrant {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid', { name: 'account_id' }) accountId!: string;
  @ManyToOne(() => Account, (account) => account.permissions, { onDelete: 'CASCADE' }) @JoinColumn({ name: 'account_id' }) account?: Relation<Account>;
  @Column('varchar', { length: 100 }) permission!: Permission;
  @Column('uuid', { name: 'store_id', nullable: true }) storeId!: string | null;
  @CreateDateColumn({ name: 'granted_at', type: 'timestamptz' }) grantedAt!: Date;
}

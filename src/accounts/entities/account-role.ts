import { Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import type { Relation } from 'typeorm';
import { Account } from './account.js';

export const ROLES = ['customer', 'support', 'admin'] as const;
export type RoleName = (typeof ROLES)[number];

@Entity('account_role')
export class AccountRole {
  @PrimaryColumn('uuid', { name: 'account_id' }) accountId!: string;
  @PrimaryColumn('varchar', { length: 32 }) role!: RoleName;
  @ManyToOne(() => Account, (account) => account.roles, { onDelete: 'CASCADE' }) @JoinColumn({ name: 'account_id' }) account?: Relation<Account>;
}

import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A storefront tenant: its customers sign in through the store's clients. */
@Entity('store')
export class Store {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('varchar', { length: 64, unique: true }) slug!: string;
  @Column('varchar', { length: 200 }) name!: string;
  @Column('varchar', { name: 'base_url', length: 2000, nullable: true }) baseUrl!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** A person. One contact may own several accounts (one login per store). */
@Entity('contact')
export class Contact {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('varchar', { name: 'first_name', length: 200, default: '' }) firstName!: string;
  @Column('varchar', { name: 'last_name', length: 200, default: '' }) lastName!: string;
  @Column('varchar', { name: 'display_name', length: 400 }) displayName!: string;
  @Column('text', { array: true, default: () => "'{}'" }) emails!: string[];
  @Column('text', { array: true, default: () => "'{}'" }) phones!: string[];
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

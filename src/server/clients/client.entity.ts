import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** A registered OAuth client: oidc-provider metadata plus its secret, encrypted at rest. */
@Entity('oauth_client')
export class OAuthClient {
  @PrimaryColumn('varchar', { name: 'client_id', length: 200 }) clientId!: string;
  @Column('text', { name: 'client_secret_encrypted', nullable: true, select: false }) clientSecretEncrypted?: string | null;
  @Column('jsonb') metadata!: Record<string, unknown>;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

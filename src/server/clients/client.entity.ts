import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** A registered OAuth client: oidc-provider metadata plus its secret, encrypted at rest. */
@Entity('oauth_client')
export class OAuthClient {
  @PrimaryColumn('varchar', { name: 'client_id', length: 200 }) clientId!: string;
  @Column('text', { name: 'client_secret_encrypted', nullable: true, select: false }) clientSecretEncrypted?: string | null;
  /** The secret a rotation replaced, sealed; accepted until `previousSecretExpiresAt`. */
  @Column('text', { name: 'previous_secret_encrypted', nullable: true, select: false }) previousSecretEncrypted?: string | null;
  @Column('timestamptz', { name: 'previous_secret_expires_at', nullable: true }) previousSecretExpiresAt!: Date | null;
  @Column('timestamptz', { name: 'secret_rotated_at', nullable: true }) secretRotatedAt!: Date | null;
  /** Set for a client registered dynamically (RFC 7591): the resources its initial access token allowed. */
  @Column('text', { name: 'registration_resources', array: true, nullable: true }) registrationResources!: string[] | null;
  @Column('jsonb') metadata!: Record<string, unknown>;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

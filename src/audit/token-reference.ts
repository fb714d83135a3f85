/** A stable reference to a token that is not the token: opaque token ids are bearer secrets. */
import { createHash } from 'node:crypto';

export function tokenReference(id: string): string {
  return createHash('sha256').update(id).digest('base64url').slice(0, 22);
}

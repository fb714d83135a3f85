/** Every migration, in order. Listed explicitly so the same list works from src (tests) and dist. */
import { InitialSchema1795531125052 } from './1795531125052-initial-schema.js';

export const migrations = [InitialSchema1795531125052];

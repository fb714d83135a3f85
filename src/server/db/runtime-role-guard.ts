/**
 * At start: production refuses a runtime role that could rewrite the audit
 * trail; elsewhere (development, tests on one DATABASE_URL) it is one warning.
 */
import type { DataSource } from 'typeorm';
import type { Config } from '../../../config/load.js';
import type { Logger } from '../observability/logger.js';
import { DatabaseError } from './connect.js';
import { runtimeRoleFacts } from './runtime-role-facts.js';
import { describeRuntimeRoleRefusal, runtimeRoleProblems } from './runtime-role-policy.js';

export async function guardRuntimeRole(dataSource: DataSource, env: Config['env'], logger: Logger): Promise<void> {
  const facts = await runtimeRoleFacts(dataSource);
  if (env === 'production') {
    const refusal = describeRuntimeRoleRefusal(facts);
    if (refusal) throw new DatabaseError(refusal);
    return;
  }
  const problems = runtimeRoleProblems(facts);
  if (problems.length > 0) {
    logger.warn(
      `the runtime database role is privileged (${facts.role} ${problems.join(', ')}): it could rewrite the audit trail; production refuses this. Set DATABASE_MIGRATION_URL to the owner and DATABASE_URL to a runtime role`,
      {
        event: 'db.privileged_role',
      },
    );
  }
}

/**
 * `audit prove`, `audit prove-consistency`, `audit verify-proof`: proof
 * bundles out of the log, and the offline check anyone can run on them with
 * only the issuer's published keys (no database, no configuration).
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { JSONWebKeySet } from 'jose';
import type { CliContext } from '../context.js';
import { CliError, SilentExit } from '../errors.js';
import { examples } from '../output.js';
import { integerIn } from '../parse.js';

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new CliError(`${path} is not JSON`);
  }
}

async function emit(cli: CliContext, bundle: unknown, output: string | undefined): Promise<void> {
  const text = `${JSON.stringify(bundle, null, 2)}\n`;
  if (!output) return void cli.io.stdout.write(text);
  await writeFile(output, text, { flag: 'wx', mode: 0o600 }).catch((error: NodeJS.ErrnoException) => {
    throw new CliError(`cannot create ${output}: ${error.code ?? error.message}`);
  });
  cli.io.stderr.write(`proof written to ${output}\n`);
}

async function unavailable<T>(work: () => Promise<T>): Promise<T> {
  const { ProofUnavailableError } = await import('../../server/audit-trail/audit-service.js');
  try {
    return await work();
  } catch (error) {
    if (error instanceof ProofUnavailableError) throw new CliError(error.message);
    throw error;
  }
}

export function registerProofs(group: Command, cli: CliContext): void {
  const seqNumber = integerIn(1, Number.MAX_SAFE_INTEGER);

  const prove = group
    .command('prove <seq>')
    .description('write an inclusion proof for one event: the event, its audit path and the signed tree head (RFC 9162 §2.1.3)')
    .option('--tree-size <n>', 'prove against the signed head of this size (default: the newest)', seqNumber)
    .option('--output <file>', 'write to this file instead of stdout')
    .action(async (seqText: string, options: { treeSize?: number; output?: string }) => {
      const seq = seqNumber(seqText);
      const bundle = await unavailable(() =>
        cli.withServices(async (services) => {
          const proof = await services.audit.inclusionProof(seq, options.treeSize);
          await services.audit.record({
            type: 'admin.audit.proved',
            actor: cli.actor(),
            details: { seq, tree_size: proof.tree_head.tree_size },
          });
          return proof;
        }),
      );
      await emit(cli, bundle, options.output);
    });
  examples(prove, 'audit prove 1234 --output event-1234.proof.json');

  const consistency = group
    .command('prove-consistency <first> [second]')
    .description('write a consistency proof between two signed tree heads, by size (RFC 9162 §2.1.4; default second: the newest)')
    .option('--output <file>', 'write to this file instead of stdout')
    .action(async (firstText: string, secondText: string | undefined, options: { output?: string }) => {
      const first = seqNumber(firstText);
      const second = secondText === undefined ? undefined : seqNumber(secondText);
      const bundle = await unavailable(() => cli.withServices((services) => services.audit.consistencyProof(first, second)));
      await emit(cli, bundle, options.output);
    });
  examples(consistency, 'audit prove-consistency 1000 --output since-1000.json');

  const verifyProof = group
    .command('verify-proof <file>')
    .description('check a proof bundle offline; exits 1 when it does not hold. Pin the keys with --keys (the published JWKS)')
    .option('--keys <jwks.json>', "the issuer's published JWKS (its /jwks); without it the bundle's own keys are used")
    .option('--issuer <url>', 'the issuer the heads must be signed by')
    .action(async (file: string, options: { keys?: string; issuer?: string }) => {
      const { verifyProofBundle } = await import('../../audit/proof.js');
      const bundle = await readJson(file, 'proof');
      const keys = options.keys ? ((await readJson(options.keys, 'keys')) as JSONWebKeySet) : undefined;
      const verdict = await verifyProofBundle(bundle, keys ? { keys, ...(options.issuer ? { issuer: options.issuer } : {}) } : undefined);
      cli.out(verdict.ok ? `proof holds: ${verdict.summary}` : `proof FAILS: ${verdict.summary}`);
      if (verdict.ok && verdict.keysFromBundle)
        cli.out("warning: checked with the bundle's own keys; pass --keys with the issuer's published JWKS to prove who signed");
      if (!verdict.ok) throw new SilentExit(1);
    });
  examples(verifyProof, 'audit verify-proof event-1234.proof.json --keys jwks.json');
}

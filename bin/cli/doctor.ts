import { STSClient } from '@aws-sdk/client-sts';
import { fromIni } from '@aws-sdk/credential-providers';
import type { Command } from 'commander';
import { ValidationError } from '../../lambdas/domain/errors.js';
import { loadRunnableConfig } from '../../local/trainers/config-trainers.js';
import { globalOptions } from './context.js';
import { type CheckResult, doctorClients, runChecks } from './doctor-checks.js';
import { createOutput } from './output.js';

const MARK: Record<CheckResult['status'], string> = { pass: '✓', warn: '!', fail: '✗' };

/** One line per check, and under a warning or failure what to do. */
export function renderChecks(results: readonly CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.check.length));
  return results
    .flatMap((r) => [
      `${MARK[r.status]} ${r.check.padEnd(width)}  ${r.detail}`,
      ...(r.fix && r.status !== 'pass' ? [`  ${' '.repeat(width)}  → ${r.fix}`] : []),
    ])
    .join('\n');
}

/** The region the SDK would use: --region, then AWS_REGION and the profile's. */
async function resolveRegion(region: string | undefined, profile: string | undefined): Promise<string> {
  if (region) return region;
  const probe = new STSClient(profile ? { credentials: fromIni({ profile }), profile } : {});
  try {
    return await probe.config.region();
  } catch {
    throw new ValidationError(
      'no AWS region: pass --region <region>, set AWS_REGION, or give the profile a region (aws configure)',
    );
  } finally {
    probe.destroy();
  }
}

/**
 * `mlcycle doctor --aws`: a preflight before and after `cdk deploy`. Exits non-zero when a check
 * fails; warnings (not deployed yet, SES sandbox with verified approvers) do not.
 */
export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description('check an AWS account for mlcycle before and after cdk deploy (needs --aws or --profile)')
    .option('--json', 'print JSON')
    .action(async (_o, cmd: Command) => {
      const opts = globalOptions(cmd);
      if (!opts.aws && !opts.profile) {
        throw new ValidationError(
          'doctor checks an AWS account: run mlcycle doctor --aws (or --profile <name>); the local stack needs no preflight',
        );
      }
      const config = loadRunnableConfig(opts.config);
      const region = await resolveRegion(opts.region, opts.profile);
      const clients = doctorClients({
        region,
        ...(opts.profile ? { credentials: fromIni({ profile: opts.profile }) } : {}),
      });
      try {
        const results = await runChecks({ config, region, clients });
        createOutput(Boolean(opts.json)).result(results, () => renderChecks(results));
        if (results.some((r) => r.status === 'fail')) process.exitCode = 1;
      } finally {
        for (const client of Object.values(clients)) client.destroy();
      }
    });
}

import { CloudFormationClient, DescribeStacksCommand, type Stack } from '@aws-sdk/client-cloudformation';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  GetAccountSettingsCommand,
  GetFunctionConcurrencyCommand,
  LambdaClient,
} from '@aws-sdk/client-lambda';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import {
  GetAWSDefaultServiceQuotaCommand,
  GetServiceQuotaCommand,
  ServiceQuotasClient,
} from '@aws-sdk/client-service-quotas';
import { GetAccountCommand, GetEmailIdentityCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { DescribeStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { fromIni } from '@aws-sdk/credential-providers';
import type { MlcycleConfig } from '../../lambdas/contracts/config-schema.js';

/**
 * The checks of `mlcycle doctor --aws`: what a fresh account lacks for mlcycle's first deploy and
 * first run, each answering pass / warn / fail with what to do. Every AWS call goes through an
 * injected SDK client, so the checks are tested with the clients stubbed.
 */

export type CheckStatus = 'pass' | 'warn' | 'fail';

export interface CheckResult {
  readonly check: string;
  readonly status: CheckStatus;
  /** What was found. */
  readonly detail: string;
  /** What to do about a warning or a failure. */
  readonly fix?: string;
}

export interface DoctorClients {
  readonly sts: STSClient;
  readonly cloudformation: CloudFormationClient;
  readonly quotas: ServiceQuotasClient;
  readonly ses: SESv2Client;
  readonly lambda: LambdaClient;
  readonly s3: S3Client;
  readonly dynamodb: DynamoDBClient;
  readonly sfn: SFNClient;
}

export interface DoctorContext {
  readonly config: MlcycleConfig;
  readonly region: string;
  readonly clients: DoctorClients;
  /** For the API reachability probe. @default globalThis.fetch */
  readonly fetch?: (url: string, init?: { method?: string }) => Promise<{ status: number }>;
}

const errorName = (err: unknown) => (err as { name?: string }).name ?? 'Error';
const errorText = (err: unknown) => `${errorName(err)}: ${(err as Error).message}`;

export async function checkCredentials(ctx: DoctorContext): Promise<CheckResult> {
  const check = 'credentials';
  try {
    const me = await ctx.clients.sts.send(new GetCallerIdentityCommand({}));
    return { check, status: 'pass', detail: `account ${me.Account} as ${me.Arn}, region ${ctx.region}` };
  } catch (err) {
    const expired = /expired/i.test(`${errorName(err)} ${(err as Error).message}`);
    return {
      check,
      status: 'fail',
      detail: `cannot call AWS in ${ctx.region} (${errorText(err)})`,
      fix: expired
        ? 'your credentials have expired: sign in again (aws sso login, or refresh the session)'
        : 'configure credentials: aws configure or aws sso login, then set AWS_PROFILE or pass --profile <name>',
    };
  }
}

/** The bootstrap version the templates of this aws-cdk-lib require (their CheckBootstrapVersion rule). */
export const REQUIRED_BOOTSTRAP_VERSION = 6;

async function describeStack(cfn: CloudFormationClient, name: string): Promise<Stack | undefined> {
  try {
    return (await cfn.send(new DescribeStacksCommand({ StackName: name }))).Stacks?.[0];
  } catch (err) {
    if (/does not exist/.test((err as Error).message)) return undefined;
    throw err;
  }
}

const output = (stack: Stack, key: string) => stack.Outputs?.find((o) => o.OutputKey === key)?.OutputValue;

export async function checkBootstrap(ctx: DoctorContext, account = '<account>'): Promise<CheckResult> {
  const check = 'cdk bootstrap';
  const fix = `run npx cdk bootstrap aws://${account}/${ctx.region}`;
  const stack = await describeStack(ctx.clients.cloudformation, 'CDKToolkit');
  if (!stack) return { check, status: 'fail', detail: `no CDKToolkit stack in ${ctx.region}`, fix };
  const version = Number(output(stack, 'BootstrapVersion'));
  if (!/_COMPLETE$/.test(stack.StackStatus ?? '') || /ROLLBACK/.test(stack.StackStatus ?? '')) {
    return { check, status: 'fail', detail: `CDKToolkit is ${stack.StackStatus}`, fix };
  }
  if (!(version >= REQUIRED_BOOTSTRAP_VERSION)) {
    return {
      check,
      status: 'fail',
      detail: `bootstrap version ${Number.isNaN(version) ? 'unknown' : version}; this app needs ${REQUIRED_BOOTSTRAP_VERSION} or newer`,
      fix,
    };
  }
  return { check, status: 'pass', detail: `CDKToolkit version ${version} in ${ctx.region}` };
}

/** EC2 vCPU quotas by instance family and purchase option (Service Quotas codes). */
const GPU_QUOTAS = [
  { families: /^(g|vt)\d/, spot: 'L-3819A6DF', onDemand: 'L-DB2E81BA', name: 'G and VT' },
  { families: /^p\d/, spot: 'L-7212CCBC', onDemand: 'L-417A185B', name: 'P' },
] as const;

async function quotaValue(quotas: ServiceQuotasClient, code: string): Promise<number> {
  try {
    const q = await quotas.send(new GetServiceQuotaCommand({ ServiceCode: 'ec2', QuotaCode: code }));
    return q.Quota?.Value ?? 0;
  } catch (err) {
    // A quota never changed in this account has no applied value: the AWS default applies.
    if (errorName(err) !== 'NoSuchResourceException') throw err;
    const q = await quotas.send(
      new GetAWSDefaultServiceQuotaCommand({ ServiceCode: 'ec2', QuotaCode: code }),
    );
    return q.Quota?.Value ?? 0;
  }
}

/**
 * The vCPU quota of the GPU families the compute environment launches. New accounts have 0 for
 * Spot G/VT: jobs then wait RUNNABLE until the queue cancels them for lack of capacity.
 */
export async function checkGpuQuota(ctx: DoctorContext): Promise<CheckResult> {
  const check = 'GPU vCPU quota';
  const models = Object.entries(ctx.config.models);
  // The compute environment is Spot only when every model allows it (lib/training.ts).
  const spot = models.every(([, m]) => m.training.spot);
  const option = spot ? 'Spot Instance Requests' : 'On-Demand instances';
  const found: string[] = [];
  const short: string[] = [];
  for (const q of GPU_QUOTAS) {
    const users = models.filter(([, m]) => m.training.instanceTypes.some((t) => q.families.test(t)));
    if (!users.length) continue;
    const code = spot ? q.spot : q.onDemand;
    const needed = Math.max(...users.map(([, m]) => m.training.resources.vcpus));
    const value = await quotaValue(ctx.clients.quotas, code);
    found.push(`${q.name} ${option} (${code}) = ${value} vCPUs`);
    if (value < needed) {
      const largest = users.find(([, m]) => m.training.resources.vcpus === needed)?.[0];
      short.push(
        `${q.name} ${option} (${code}) is ${value} vCPUs in ${ctx.region}, and ${largest} needs at least ${needed}: ` +
          `aws service-quotas request-service-quota-increase --service-code ec2 --quota-code ${code} ` +
          `--desired-value ${Math.max(needed * 2, 8)} --region ${ctx.region}`,
      );
    }
  }
  if (!found.length) {
    return {
      check,
      status: 'pass',
      detail: 'no G, VT or P instance types configured (standard quotas apply)',
    };
  }
  if (short.length) {
    return {
      check,
      status: 'fail',
      detail: `${short.length === 1 ? 'a quota is' : 'quotas are'} too low: training jobs would wait RUNNABLE until the queue cancels them ("no capacity")`,
      fix: `${short.join('; ')} (a first request is often refused without a use case: file it from the Service Quotas console and say what you train)`,
    };
  }
  return { check, status: 'pass', detail: found.join(', ') };
}

/** Domains no one can verify (RFC 2606 and 6761). */
const RESERVED_DOMAIN = /(^|\.)(example\.(com|net|org)|example|test|invalid|localhost)$/i;

async function identity(ses: SESv2Client, name: string) {
  try {
    return await ses.send(new GetEmailIdentityCommand({ EmailIdentity: name }));
  } catch (err) {
    if (errorName(err) === 'NotFoundException') return undefined;
    throw err;
  }
}

/** The identity approval emails are sent from: created by the stack, verified by a person. */
export async function checkSesIdentity(ctx: DoctorContext): Promise<CheckResult> {
  const check = 'SES sender identity';
  const { sender, senderDomain } = ctx.config.notifications;
  const name = senderDomain ?? sender;
  const domain = senderDomain ?? sender.split('@')[1] ?? '';
  if (RESERVED_DOMAIN.test(domain)) {
    return {
      check,
      status: 'fail',
      detail: `notifications.sender ${sender} is at ${domain}, a domain reserved for examples that no one can verify`,
      fix: 'set notifications.sender (and preferably notifications.senderDomain) to a domain you control',
    };
  }
  const found = await identity(ctx.clients.ses, name);
  if (!found) {
    return {
      check,
      status: 'warn',
      detail: `no SES identity ${name} in ${ctx.region} yet`,
      fix: 'npx cdk deploy creates it; then run mlcycle doctor --aws again',
    };
  }
  if (found.VerifiedForSendingStatus) {
    const dkim = found.DkimAttributes?.Status;
    if (senderDomain && dkim !== 'SUCCESS') {
      return {
        check,
        status: 'warn',
        detail: `${name} is verified, but its DKIM status is ${dkim ?? 'unknown'}`,
        fix: 'publish the DkimRecord1..3 CNAME records from the stack outputs in DNS',
      };
    }
    return {
      check,
      status: 'pass',
      detail: `${name} is verified for sending${senderDomain ? ' (Easy DKIM)' : ''}`,
    };
  }
  return {
    check,
    status: 'fail',
    detail: `${name} is not verified yet (${found.VerificationStatus ?? 'PENDING'}): SES rejects approval emails from it`,
    fix: senderDomain
      ? 'publish the DkimRecord1..3 CNAME records from the stack outputs in the DNS of the domain; SES checks for 72 hours'
      : `open the verification link SES mailed to ${sender} (resend it by deleting and re-deploying the identity, or verify in the SES console)`,
  };
}

/** Whether the account may send: out of the sandbox, or every approver verified. */
export async function checkSesSandbox(ctx: DoctorContext): Promise<CheckResult> {
  const check = 'SES sending';
  const account = await ctx.clients.ses.send(new GetAccountCommand({}));
  if (account.SendingEnabled === false) {
    return {
      check,
      status: 'fail',
      detail: `sending is paused for this account in ${ctx.region} (${account.EnforcementStatus ?? 'paused'})`,
      fix: 'see the SES console (reputation dashboard) for why, and resume sending',
    };
  }
  if (account.ProductionAccessEnabled) {
    return {
      check,
      status: 'pass',
      detail: `production access in ${ctx.region}: any approver can be mailed`,
    };
  }
  const approvers = [...new Set(Object.values(ctx.config.environments).flatMap((e) => e.approvers))];
  const senderDomain = ctx.config.notifications.senderDomain?.toLowerCase();
  const unverified: string[] = [];
  for (const approver of approvers) {
    const domain = approver.split('@')[1]?.toLowerCase();
    if (senderDomain && domain === senderDomain) continue;
    if (!(await identity(ctx.clients.ses, approver))?.VerifiedForSendingStatus) unverified.push(approver);
  }
  const production = `request production access (aws sesv2 put-account-details --production-access-enabled --mail-type TRANSACTIONAL --website-url <url> --use-case-description "approval emails" --region ${ctx.region})`;
  if (unverified.length) {
    return {
      check,
      status: 'fail',
      detail: `the account is in the SES sandbox in ${ctx.region}, and ${unverified.join(', ')} ${unverified.length === 1 ? 'is' : 'are'} not verified: their approval emails would be rejected`,
      fix: `${production}, or verify each address (aws sesv2 create-email-identity --email-identity <address>; its owner clicks the link)`,
    };
  }
  return {
    check,
    status: 'warn',
    detail: `the account is in the SES sandbox in ${ctx.region}; every approver is verified, which is enough for a trial`,
    fix: production,
  };
}

/**
 * Whether reserving the monitoring functions' concurrency leaves AWS's minimum unreserved: 100,
 * or the whole quota on accounts whose quota is below it (new accounts have 10, where no
 * reservation is possible and `cdk deploy` fails on the functions).
 */
export async function checkLambdaConcurrency(ctx: DoctorContext): Promise<CheckResult> {
  const check = 'Lambda concurrency';
  const caps = ctx.config.monitoring.reservedConcurrency;
  const wanted = caps === false ? 0 : caps.baseline + caps.drift;
  const settings = await ctx.clients.lambda.send(new GetAccountSettingsCommand({}));
  const limit = settings.AccountLimit?.ConcurrentExecutions ?? 0;
  const unreserved = settings.AccountLimit?.UnreservedConcurrentExecutions ?? limit;
  // What this stack already reserves (a redeploy) is part of the reserved share already.
  let ours = 0;
  for (const fn of ['baseline', 'drift']) {
    try {
      const c = await ctx.clients.lambda.send(
        new GetFunctionConcurrencyCommand({ FunctionName: `${ctx.config.project}-${fn}` }),
      );
      ours += c.ReservedConcurrentExecutions ?? 0;
    } catch (err) {
      if (errorName(err) !== 'ResourceNotFoundException') throw err;
    }
  }
  const minimum = Math.min(100, limit);
  const left = unreserved + ours - wanted;
  const detail = `quota ${limit}, ${unreserved} unreserved in ${ctx.region}; monitoring.reservedConcurrency reserves ${wanted}`;
  if (left >= minimum) return { check, status: 'pass', detail: `${detail}, leaving ${left}` };
  return {
    check,
    status: 'fail',
    detail: `${detail}, which would leave ${left}, below AWS's minimum of ${minimum} unreserved: cdk deploy would fail on the functions`,
    fix:
      'set monitoring.reservedConcurrency: false in the config, or request a higher quota ' +
      `(aws service-quotas request-service-quota-increase --service-code lambda --quota-code L-B99A9384 --desired-value 1000 --region ${ctx.region})`,
  };
}

const STACK_OUTPUTS = ['BucketName', 'TableName', 'StateMachineArn', 'ApiUrl'] as const;

/** The deployed stack: complete, with the outputs the CLI reads, each of them reachable. */
export async function checkStack(ctx: DoctorContext): Promise<CheckResult> {
  const check = 'stack';
  const name = ctx.config.project;
  const stack = await describeStack(ctx.clients.cloudformation, name);
  if (!stack) {
    return {
      check,
      status: 'warn',
      detail: `stack ${name} is not deployed in ${ctx.region}`,
      fix: 'run npx cdk deploy, then mlcycle doctor --aws again',
    };
  }
  const status = stack.StackStatus ?? 'UNKNOWN';
  if (!/_COMPLETE$/.test(status) || /ROLLBACK|DELETE/.test(status)) {
    return {
      check,
      status: 'fail',
      detail: `stack ${name} is ${status}${stack.StackStatusReason ? `: ${stack.StackStatusReason}` : ''}`,
      fix: 'see the failed resource in the CloudFormation console (Events), fix it, and deploy again',
    };
  }
  const missing = STACK_OUTPUTS.filter((k) => !output(stack, k));
  if (missing.length) {
    return {
      check,
      status: 'fail',
      detail: `stack ${name} has no output ${missing.join(', ')}`,
      fix: 'deploy this version of mlcycle (npx cdk deploy): the CLI finds its resources by these outputs',
    };
  }
  const problems: string[] = [];
  const probe = async (what: string, call: () => Promise<unknown>) => {
    try {
      await call();
    } catch (err) {
      problems.push(`${what}: ${errorText(err)}`);
    }
  };
  const out = (k: (typeof STACK_OUTPUTS)[number]) => output(stack, k) as string;
  await probe(`bucket ${out('BucketName')}`, () =>
    ctx.clients.s3.send(new HeadBucketCommand({ Bucket: out('BucketName') })),
  );
  await probe(`table ${out('TableName')}`, () =>
    ctx.clients.dynamodb.send(new DescribeTableCommand({ TableName: out('TableName') })),
  );
  await probe(`state machine ${out('StateMachineArn')}`, () =>
    ctx.clients.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: out('StateMachineArn') })),
  );
  const fetcher = ctx.fetch ?? ((url: string, init?: { method?: string }) => globalThis.fetch(url, init));
  const [model] = Object.keys(ctx.config.models);
  const [stage] = Object.keys(ctx.config.environments);
  const url = `${out('ApiUrl').replace(/\/?$/, '/')}models/${model}/${stage}`;
  await probe(`API ${url}`, async () => {
    // 404 before the first deploy of a model is an answer; 5xx or no answer is not.
    const res = await fetcher(url, { method: 'HEAD' });
    if (res.status >= 500) throw new Error(`answered ${res.status}`);
  });
  if (problems.length) {
    return {
      check,
      status: 'fail',
      detail: `stack ${name} is ${status}, but ${problems.join('; ')}`,
      fix: 'check that these credentials may read the stack’s resources, and that the stack was not changed by hand',
    };
  }
  return {
    check,
    status: 'pass',
    detail: `stack ${name} is ${status}; bucket, table, state machine and API answer`,
  };
}

/** Every check, in the order a person fixes things; later checks are skipped without credentials. */
export async function runChecks(ctx: DoctorContext): Promise<CheckResult[]> {
  const credentials = await checkCredentials(ctx);
  if (credentials.status === 'fail') return [credentials];
  const account = /account (\d+)/.exec(credentials.detail)?.[1];
  const results = [credentials];
  const guarded = async (check: string, run: () => Promise<CheckResult>) => {
    try {
      results.push(await run());
    } catch (err) {
      results.push({
        check,
        status: 'fail',
        detail: `could not check (${errorText(err)})`,
        fix: 'these credentials may lack read access to it; run doctor as someone who deploys the stack',
      });
    }
  };
  await guarded('cdk bootstrap', () => checkBootstrap(ctx, account));
  await guarded('GPU vCPU quota', () => checkGpuQuota(ctx));
  await guarded('SES sender identity', () => checkSesIdentity(ctx));
  await guarded('SES sending', () => checkSesSandbox(ctx));
  await guarded('Lambda concurrency', () => checkLambdaConcurrency(ctx));
  await guarded('stack', () => checkStack(ctx));
  return results;
}

/** Region and optional credentials (the CLI's --region and --profile) for every client. */
export interface ClientConfig {
  readonly region: string;
  readonly credentials?: ReturnType<typeof fromIni>;
}

export function doctorClients(config: ClientConfig): DoctorClients {
  return {
    sts: new STSClient(config),
    cloudformation: new CloudFormationClient(config),
    quotas: new ServiceQuotasClient(config),
    ses: new SESv2Client(config),
    lambda: new LambdaClient(config),
    s3: new S3Client(config),
    dynamodb: new DynamoDBClient(config),
    sfn: new SFNClient(config),
  };
}

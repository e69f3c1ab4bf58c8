import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderChecks } from '../../bin/cli/doctor.js';
import {
  checkBootstrap,
  checkCredentials,
  checkGpuQuota,
  checkLambdaConcurrency,
  checkSesIdentity,
  checkSesSandbox,
  checkStack,
  type DoctorContext,
  runChecks,
} from '../../bin/cli/doctor-checks.js';
import { parseConfig } from '../../lambdas/adapters/config-file.js';

/**
 * `mlcycle doctor --aws`, with every AWS client stubbed at the SDK boundary: one pass and one
 * fail (or warn) per check, each failure saying what to do.
 */

const REGION = 'eu-west-1';
const creds = { accessKeyId: 'a', secretAccessKey: 'b' };
const make = <T>(C: new (c: { region: string; credentials: typeof creds }) => T): T =>
  new C({ region: REGION, credentials: creds });
const clients = {
  sts: make(STSClient),
  cloudformation: make(CloudFormationClient),
  quotas: make(ServiceQuotasClient),
  ses: make(SESv2Client),
  lambda: make(LambdaClient),
  s3: make(S3Client),
  dynamodb: make(DynamoDBClient),
  sfn: make(SFNClient),
};
const mocks = {
  sts: mockClient(clients.sts),
  cloudformation: mockClient(clients.cloudformation),
  quotas: mockClient(clients.quotas),
  ses: mockClient(clients.ses),
  lambda: mockClient(clients.lambda),
  s3: mockClient(clients.s3),
  dynamodb: mockClient(clients.dynamodb),
  sfn: mockClient(clients.sfn),
};

/** The sample config with a deployable sender, and values set at dotted key paths. */
function config(set: Record<string, unknown> = {}) {
  const raw = parse(readFileSync('mlcycle.config.yaml', 'utf8')) as Record<string, unknown>;
  const all = { notifications: { sender: 'mlcycle@studio.com' }, ...set };
  for (const [path, value] of Object.entries(all)) {
    const keys = path.split('.');
    let at = raw;
    for (const key of keys.slice(0, -1)) {
      at[key] ??= {};
      at = at[key] as Record<string, unknown>;
    }
    at[keys[keys.length - 1] as string] = value;
  }
  return parseConfig(raw);
}

const ctx = (set: Record<string, unknown> = {}, extra: Partial<DoctorContext> = {}): DoctorContext => ({
  config: config(set),
  region: REGION,
  clients,
  ...extra,
});

const awsError = (name: string, message = name) => Object.assign(new Error(message), { name });
const notFound = (name: string) => awsError('ValidationError', `Stack with id ${name} does not exist`);

const deployedStack: Stack = {
  StackName: 'mlcycle',
  StackStatus: 'UPDATE_COMPLETE',
  CreationTime: new Date(),
  Outputs: [
    { OutputKey: 'BucketName', OutputValue: 'mlcycle-bucket' },
    { OutputKey: 'TableName', OutputValue: 'mlcycle-table' },
    {
      OutputKey: 'StateMachineArn',
      OutputValue: 'arn:aws:states:eu-west-1:123456789012:stateMachine:mlcycle-lifecycle',
    },
    { OutputKey: 'ApiUrl', OutputValue: 'https://abc.execute-api.eu-west-1.amazonaws.com/' },
  ],
};

beforeEach(() => {
  for (const m of Object.values(mocks)) m.reset();
});

describe('credentials and region', () => {
  it('passes with the account and the principal', async () => {
    mocks.sts
      .on(GetCallerIdentityCommand)
      .resolves({ Account: '123456789012', Arn: 'arn:aws:iam::123456789012:user/ops' });
    const r = await checkCredentials(ctx());
    expect(r).toMatchObject({ status: 'pass', detail: expect.stringContaining('account 123456789012') });
    expect(r.detail).toContain(REGION);
  });

  it('fails without credentials and says how to configure them; expired ones say sign in again', async () => {
    mocks.sts
      .on(GetCallerIdentityCommand)
      .rejects(awsError('CredentialsProviderError', 'Could not load credentials'));
    const r = await checkCredentials(ctx());
    expect(r.status).toBe('fail');
    expect(r.fix).toMatch(/aws configure|--profile/);
    mocks.sts
      .on(GetCallerIdentityCommand)
      .rejects(awsError('ExpiredToken', 'The security token included in the request is expired'));
    expect((await checkCredentials(ctx())).fix).toMatch(/expired: sign in again/);
  });

  it('stops at a credentials failure instead of failing every other check', async () => {
    mocks.sts.on(GetCallerIdentityCommand).rejects(awsError('CredentialsProviderError'));
    const results = await runChecks(ctx());
    expect(results.map((r) => r.check)).toEqual(['credentials']);
  });
});

describe('CDK bootstrap', () => {
  it('passes with a complete CDKToolkit of version 6 or newer', async () => {
    mocks.cloudformation.on(DescribeStacksCommand, { StackName: 'CDKToolkit' }).resolves({
      Stacks: [
        {
          StackName: 'CDKToolkit',
          StackStatus: 'UPDATE_COMPLETE',
          CreationTime: new Date(),
          Outputs: [{ OutputKey: 'BootstrapVersion', OutputValue: '27' }],
        },
      ],
    });
    expect((await checkBootstrap(ctx(), '123456789012')).status).toBe('pass');
  });

  it('fails when the region is not bootstrapped, giving the exact command', async () => {
    mocks.cloudformation.on(DescribeStacksCommand).rejects(notFound('CDKToolkit'));
    const r = await checkBootstrap(ctx(), '123456789012');
    expect(r).toMatchObject({ status: 'fail', fix: `run npx cdk bootstrap aws://123456789012/${REGION}` });
  });

  it('fails on a bootstrap too old for this app', async () => {
    mocks.cloudformation.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: 'CDKToolkit',
          StackStatus: 'CREATE_COMPLETE',
          CreationTime: new Date(),
          Outputs: [{ OutputKey: 'BootstrapVersion', OutputValue: '4' }],
        },
      ],
    });
    expect((await checkBootstrap(ctx(), '1')).detail).toMatch(/bootstrap version 4; this app needs 6/);
  });
});

describe('GPU vCPU quota', () => {
  it('passes when Spot G/VT allows the largest job', async () => {
    mocks.quotas
      .on(GetServiceQuotaCommand, { ServiceCode: 'ec2', QuotaCode: 'L-3819A6DF' })
      .resolves({ Quota: { Value: 32 } });
    const r = await checkGpuQuota(ctx());
    expect(r).toMatchObject({ status: 'pass', detail: expect.stringContaining('L-3819A6DF) = 32 vCPUs') });
  });

  it('fails at 0 (new accounts) with the request command, reading the AWS default when none was applied', async () => {
    mocks.quotas.on(GetServiceQuotaCommand).rejects(awsError('NoSuchResourceException'));
    mocks.quotas
      .on(GetAWSDefaultServiceQuotaCommand, { QuotaCode: 'L-3819A6DF' })
      .resolves({ Quota: { Value: 0 } });
    const r = await checkGpuQuota(ctx());
    expect(r.status).toBe('fail');
    expect(r.fix).toContain(
      'G and VT Spot Instance Requests (L-3819A6DF) is 0 vCPUs in eu-west-1, and churn needs at least 4',
    );
    expect(r.fix).toContain(
      `request-service-quota-increase --service-code ec2 --quota-code L-3819A6DF --desired-value 8 --region ${REGION}`,
    );
  });

  it('checks the On-Demand quota when a model does not allow Spot', async () => {
    mocks.quotas.on(GetServiceQuotaCommand, { QuotaCode: 'L-DB2E81BA' }).resolves({ Quota: { Value: 0 } });
    const r = await checkGpuQuota(ctx({ 'models.churn.training.spot': false }));
    expect(r.status).toBe('fail');
    expect(r.fix).toContain('L-DB2E81BA');
  });
});

describe('SES sender identity', () => {
  it('fails at once on a documentation domain such as the sample’s studio.example', async () => {
    const r = await checkSesIdentity(ctx({ notifications: { sender: 'mlcycle@studio.example' } }));
    expect(r.status).toBe('fail');
    expect(r.detail).toMatch(/reserved for examples/);
  });

  it('warns before the deploy has created the identity', async () => {
    mocks.ses.on(GetEmailIdentityCommand).rejects(awsError('NotFoundException'));
    expect(await checkSesIdentity(ctx())).toMatchObject({
      status: 'warn',
      fix: expect.stringMatching(/cdk deploy/),
    });
  });

  it('fails while the address is unverified, and says to open the link', async () => {
    mocks.ses.on(GetEmailIdentityCommand, { EmailIdentity: 'mlcycle@studio.com' }).resolves({
      VerifiedForSendingStatus: false,
      VerificationStatus: 'PENDING',
    });
    const r = await checkSesIdentity(ctx());
    expect(r.status).toBe('fail');
    expect(r.fix).toMatch(/verification link SES mailed to mlcycle@studio.com/);
  });

  it('fails while the domain is unverified, pointing at the DKIM records; passes once verified', async () => {
    const domain = { notifications: { sender: 'mlcycle@studio.com', senderDomain: 'studio.com' } };
    mocks.ses
      .on(GetEmailIdentityCommand, { EmailIdentity: 'studio.com' })
      .resolves({ VerifiedForSendingStatus: false });
    expect((await checkSesIdentity(ctx(domain))).fix).toMatch(/DkimRecord1\.\.3/);
    mocks.ses.on(GetEmailIdentityCommand, { EmailIdentity: 'studio.com' }).resolves({
      VerifiedForSendingStatus: true,
      DkimAttributes: { Status: 'SUCCESS' },
    });
    expect(await checkSesIdentity(ctx(domain))).toMatchObject({
      status: 'pass',
      detail: 'studio.com is verified for sending (Easy DKIM)',
    });
  });
});

describe('SES sending (sandbox)', () => {
  it('passes with production access', async () => {
    mocks.ses.on(GetAccountCommand).resolves({ ProductionAccessEnabled: true, SendingEnabled: true });
    expect((await checkSesSandbox(ctx())).status).toBe('pass');
  });

  it('fails in the sandbox naming each unverified approver', async () => {
    mocks.ses.on(GetAccountCommand).resolves({ ProductionAccessEnabled: false, SendingEnabled: true });
    mocks.ses.on(GetEmailIdentityCommand).rejects(awsError('NotFoundException'));
    mocks.ses
      .on(GetEmailIdentityCommand, { EmailIdentity: 'ml-lead@studio.example' })
      .resolves({ VerifiedForSendingStatus: true });
    const r = await checkSesSandbox(ctx());
    expect(r.status).toBe('fail');
    expect(r.detail).toContain('liveops-lead@studio.example, data-eng@studio.example are not verified');
    expect(r.detail).not.toContain('ml-lead@');
    expect(r.fix).toMatch(/put-account-details --production-access-enabled/);
  });

  it('only warns in the sandbox when every approver is verified', async () => {
    mocks.ses.on(GetAccountCommand).resolves({ ProductionAccessEnabled: false, SendingEnabled: true });
    mocks.ses.on(GetEmailIdentityCommand).resolves({ VerifiedForSendingStatus: true });
    expect((await checkSesSandbox(ctx())).status).toBe('warn');
  });

  it('fails when sending is paused for the account', async () => {
    mocks.ses.on(GetAccountCommand).resolves({ ProductionAccessEnabled: true, SendingEnabled: false });
    expect((await checkSesSandbox(ctx())).detail).toMatch(/sending is paused/);
  });
});

describe('Lambda concurrency', () => {
  it('passes when the reservation leaves the minimum unreserved', async () => {
    mocks.lambda
      .on(GetAccountSettingsCommand)
      .resolves({ AccountLimit: { ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 1000 } });
    mocks.lambda.on(GetFunctionConcurrencyCommand).rejects(awsError('ResourceNotFoundException'));
    expect(await checkLambdaConcurrency(ctx())).toMatchObject({
      status: 'pass',
      detail: expect.stringContaining('leaving 993'),
    });
  });

  it('fails on a new account’s quota of 10, where any reservation makes cdk deploy fail', async () => {
    mocks.lambda
      .on(GetAccountSettingsCommand)
      .resolves({ AccountLimit: { ConcurrentExecutions: 10, UnreservedConcurrentExecutions: 10 } });
    mocks.lambda.on(GetFunctionConcurrencyCommand).rejects(awsError('ResourceNotFoundException'));
    const r = await checkLambdaConcurrency(ctx());
    expect(r.status).toBe('fail');
    expect(r.detail).toMatch(/reserves 7, which would leave 3, below AWS's minimum of 10/);
    expect(r.fix).toMatch(/monitoring\.reservedConcurrency: false/);
    expect(r.fix).toMatch(/L-B99A9384/);
  });

  it('passes on that account once the reservation is turned off', async () => {
    mocks.lambda
      .on(GetAccountSettingsCommand)
      .resolves({ AccountLimit: { ConcurrentExecutions: 10, UnreservedConcurrentExecutions: 10 } });
    mocks.lambda.on(GetFunctionConcurrencyCommand).rejects(awsError('ResourceNotFoundException'));
    expect((await checkLambdaConcurrency(ctx({ 'monitoring.reservedConcurrency': false }))).status).toBe(
      'pass',
    );
  });

  it('counts what the deployed functions already reserve (a redeploy reserves nothing new)', async () => {
    mocks.lambda
      .on(GetAccountSettingsCommand)
      .resolves({ AccountLimit: { ConcurrentExecutions: 107, UnreservedConcurrentExecutions: 100 } });
    mocks.lambda
      .on(GetFunctionConcurrencyCommand, { FunctionName: 'mlcycle-baseline' })
      .resolves({ ReservedConcurrentExecutions: 2 });
    mocks.lambda
      .on(GetFunctionConcurrencyCommand, { FunctionName: 'mlcycle-drift' })
      .resolves({ ReservedConcurrentExecutions: 5 });
    expect((await checkLambdaConcurrency(ctx())).status).toBe('pass');
  });
});

describe('the deployed stack', () => {
  const reachable = () => {
    mocks.s3.on(HeadBucketCommand).resolves({});
    mocks.dynamodb.on(DescribeTableCommand).resolves({ Table: { TableStatus: 'ACTIVE' } });
    mocks.sfn.on(DescribeStateMachineCommand).resolves({
      stateMachineArn: 'arn',
      name: 'mlcycle-lifecycle',
      definition: '{}',
      roleArn: 'r',
      type: 'STANDARD',
      creationDate: new Date(),
    });
  };

  it('passes when complete, with its outputs, each answering (a 404 manifest is an answer)', async () => {
    mocks.cloudformation
      .on(DescribeStacksCommand, { StackName: 'mlcycle' })
      .resolves({ Stacks: [deployedStack] });
    reachable();
    const urls: string[] = [];
    const fetch = async (url: string) => {
      urls.push(url);
      return { status: 404 };
    };
    const r = await checkStack(ctx({}, { fetch }));
    expect(r).toMatchObject({ status: 'pass' });
    expect(urls).toEqual(['https://abc.execute-api.eu-west-1.amazonaws.com/models/churn/staging']);
  });

  it('warns before the first deploy', async () => {
    mocks.cloudformation.on(DescribeStacksCommand).rejects(notFound('mlcycle'));
    expect(await checkStack(ctx())).toMatchObject({
      status: 'warn',
      fix: expect.stringMatching(/npx cdk deploy/),
    });
  });

  it('fails on a rolled-back stack with its reason', async () => {
    mocks.cloudformation.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          ...deployedStack,
          StackStatus: 'UPDATE_ROLLBACK_COMPLETE',
          StackStatusReason: 'Resource creation cancelled',
        },
      ],
    });
    expect((await checkStack(ctx())).detail).toMatch(/UPDATE_ROLLBACK_COMPLETE: Resource creation cancelled/);
  });

  it('fails naming the resource that does not answer', async () => {
    mocks.cloudformation.on(DescribeStacksCommand).resolves({ Stacks: [deployedStack] });
    reachable();
    mocks.dynamodb.on(DescribeTableCommand).rejects(awsError('AccessDeniedException', 'not authorized'));
    const r = await checkStack(ctx({}, { fetch: async () => ({ status: 502 }) }));
    expect(r.status).toBe('fail');
    expect(r.detail).toContain('table mlcycle-table: AccessDeniedException: not authorized');
    expect(r.detail).toContain('answered 502');
  });

  it('fails when an output the CLI reads is missing', async () => {
    mocks.cloudformation.on(DescribeStacksCommand).resolves({
      Stacks: [{ ...deployedStack, Outputs: deployedStack.Outputs?.filter((o) => o.OutputKey !== 'ApiUrl') }],
    });
    expect((await checkStack(ctx())).detail).toBe('stack mlcycle has no output ApiUrl');
  });
});

describe('report', () => {
  it('prints one line per check and the fix under each warning or failure', () => {
    const text = renderChecks([
      { check: 'credentials', status: 'pass', detail: 'account 1' },
      { check: 'GPU vCPU quota', status: 'fail', detail: 'too low', fix: 'request more' },
    ]);
    expect(text.split('\n')).toEqual([
      '✓ credentials     account 1',
      '✗ GPU vCPU quota  too low',
      '                  → request more',
    ]);
  });

  it('`mlcycle doctor` without --aws says it checks an AWS account, in one line, non-zero', () => {
    const run = spawnSync('node_modules/.bin/tsx', ['bin/mlcycle.ts', 'doctor'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).not.toBe(0);
    expect(run.stderr.trim()).toBe(
      'mlcycle: doctor checks an AWS account: run mlcycle doctor --aws (or --profile <name>); the local stack needs no preflight',
    );
  });
});

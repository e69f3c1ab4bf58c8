import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CfnElement, type IResolvable, Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/adapters/config-file.js';
import { BATCH_JOB_RESOURCE } from '../../lambdas/contracts/batch-jobs.js';
import { ENV } from '../../lambdas/contracts/env.js';
import { AWS_ONLY_ENV } from '../../lambdas/contracts/function-env.js';
import {
  ASL_PLACEHOLDERS,
  HANDLERS,
  type HandlerContract,
  type HandlerName,
} from '../../lambdas/contracts/handlers.js';
import { HTTP_ROUTES, routeKey } from '../../lambdas/contracts/routes.js';
import { DEPLOYED_CONFIG_PATH } from '../../lib/deployed-config.js';
import { ASL_FILE } from '../../lib/paths.js';
import {
  type AttachedStatement,
  actionsOf,
  type CfnResource,
  defaultRawConfig,
  identityStatements,
  list,
  refOf,
  resourcesOf,
  type SynthesizedApp,
  synthApp,
} from './support.js';

/** Actions AWS authorises on `*` only (no resource-level permissions), each with what it serves. */
const NO_RESOURCE_LEVEL: Readonly<Record<string, RegExp>> = {
  'xray:PutTraceSegments': /x-ray/i,
  'xray:PutTelemetryRecords': /x-ray/i,
  'xray:GetSamplingRules': /x-ray/i,
  'xray:GetSamplingTargets': /x-ray/i,
  'ecr:GetAuthorizationToken': /ecr:GetAuthorizationToken/,
  'batch:DescribeJobs': /batch:DescribeJobs/,
  'batch:ListJobs': /batch:ListJobs/,
  'logs:CreateLogDelivery': /log/i,
  'logs:GetLogDelivery': /log/i,
  'logs:UpdateLogDelivery': /log/i,
  'logs:DeleteLogDelivery': /log/i,
  'logs:ListLogDeliveries': /log/i,
  'logs:PutResourcePolicy': /log/i,
  'logs:DescribeResourcePolicies': /log/i,
  'logs:DescribeLogGroups': /log/i,
};

const HANDLER_ENTRIES = Object.entries(HANDLERS) as [HandlerName, HandlerContract][];
/** The optional variables of a handler that the stack always gives (AWS_ONLY_ENV). */
const awsOnly = (contract: HandlerContract) =>
  (contract.optionalEnv ?? []).filter((key) => AWS_ONLY_ENV.includes(key));
const config = parseConfig(defaultRawConfig());
const models = Object.keys(config.models);

let s: SynthesizedApp;
let resources: Record<string, CfnResource>;
let statements: AttachedStatement[];
const fnId = (name: HandlerName) =>
  s.stack.getLogicalId(s.stack.functions.get(name).node.defaultChild as CfnElement);
const idOf = (construct: IConstruct) => s.stack.getLogicalId(construct.node.defaultChild as CfnElement);
const roleId = (name: HandlerName) =>
  s.stack.getLogicalId(s.stack.functions.role(name).node.defaultChild as CfnElement);
const props = (id: string) => {
  const r = resources[id];
  if (!r) throw new Error(`no resource ${id}`);
  return r.Properties ?? {};
};
/** Statements that grant an action (exactly, or through a wildcard that covers it). */
const granting = (action: string) =>
  statements.filter(
    (a) =>
      a.statement.Effect === 'Allow' &&
      actionsOf(a.statement).some((x) =>
        new RegExp(`^${x.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i').test(action),
      ),
  );

beforeAll(() => {
  s = synthApp(defaultRawConfig(), { bundle: false });
  resources = s.template.toJSON().Resources as Record<string, CfnResource>;
  statements = identityStatements(s.template);
});
afterAll(() => s?.dispose());

describe('artifacts bucket', () => {
  const bucketId = () => idOf(s.stack.storage.bucket);

  it('is versioned, encrypted at rest and blocks all public access', () => {
    const p = props(bucketId());
    expect(p.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(p.BucketEncryption).toMatchObject({
      ServerSideEncryptionConfiguration: [
        { ServerSideEncryptionByDefault: { SSEAlgorithm: expect.stringMatching(/^(AES256|aws:kms)$/) } },
      ],
    });
    expect(p.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
  });

  it('moves run outputs only to storage classes readable at once, so rollback can hash old artifacts', () => {
    const rules = (props(bucketId()).LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
    const transitions = rules.flatMap(
      (r) => (r.Transitions as { StorageClass: string; TransitionInDays: number }[] | undefined) ?? [],
    );
    expect(transitions.map((t) => t.StorageClass)).toEqual(['STANDARD_IA', 'GLACIER_IR']);
    expect(transitions.map((t) => t.TransitionInDays)).toEqual([30, 90]);
    expect(rules.find((r) => r.Id === 'expire-noncurrent')).toMatchObject({
      NoncurrentVersionExpiration: { NoncurrentDays: 365 },
    });
  });

  it('denies every request not made over TLS', () => {
    const policies = resourcesOf(s.template, 'AWS::S3::BucketPolicy').filter(
      ([, r]) => refOf(r.Properties?.Bucket) === bucketId(),
    );
    expect(policies).toHaveLength(1);
    const doc = policies[0]?.[1].Properties?.PolicyDocument as { Statement: Record<string, unknown>[] };
    const deny = doc.Statement.find((st) => st.Effect === 'Deny');
    expect(deny).toMatchObject({
      Action: 's3:*',
      Principal: { AWS: '*' },
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
    const targets = list(deny?.Resource as unknown[]).map((r) => JSON.stringify(r));
    expect(targets.some((t) => t.includes(`"${bucketId()}","Arn"`) && !t.includes('/*'))).toBe(true);
    expect(targets.some((t) => t.includes(`"${bucketId()}","Arn"`) && t.includes('/*'))).toBe(true);
  });

  it("sends uploads under monitoring/<model>/baseline/ and /batches/ to the baseline and drift Lambdas, a run's training progress to the trial watcher, and nothing else", () => {
    const notifications = resourcesOf(s.template, 'Custom::S3BucketNotifications');
    expect(notifications).toHaveLength(1);
    const p = notifications[0]?.[1].Properties ?? {};
    expect(refOf(p.BucketName)).toBe(bucketId());
    const configs = (p.NotificationConfiguration as { LambdaFunctionConfigurations: unknown[] })
      .LambdaFunctionConfigurations;
    // Prefix only, no suffix filter: the handlers answer an unsupported extension with a drift
    // record that says so (issue 5, "bad input"); a suffix filter would drop such uploads silently.
    const expected = models.flatMap((model) => [
      {
        Events: ['s3:ObjectCreated:*'],
        Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: `monitoring/${model}/baseline/` }] } },
        LambdaFunctionArn: { 'Fn::GetAtt': [fnId('baseline'), 'Arn'] },
      },
      {
        Events: ['s3:ObjectCreated:*'],
        Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: `monitoring/${model}/batches/` }] } },
        LambdaFunctionArn: { 'Fn::GetAtt': [fnId('drift'), 'Arn'] },
      },
      // Only the progress copies (a sweep trial's early stopping while it trains), not the rest
      // of a run's folder, which the jobs and Lambdas write all the time.
      {
        Events: ['s3:ObjectCreated:*'],
        Filter: {
          Key: {
            FilterRules: [
              { Name: 'suffix', Value: '/progress/metrics.jsonl' },
              { Name: 'prefix', Value: `runs/${model}/` },
            ],
          },
        },
        LambdaFunctionArn: { 'Fn::GetAtt': [fnId('watchTrial'), 'Arn'] },
      },
    ]);
    expect(configs).toEqual(expected);
    for (const name of ['baseline', 'drift', 'watchTrial'] as const) {
      s.template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        Principal: 's3.amazonaws.com',
        FunctionName: { 'Fn::GetAtt': [fnId(name), 'Arn'] },
        SourceArn: { 'Fn::GetAtt': [bucketId(), 'Arn'] },
        SourceAccount: { Ref: 'AWS::AccountId' },
      });
    }
  });
});

describe('registry table', () => {
  it('is on-demand, with point-in-time recovery and encryption', () => {
    const p = props(idOf(s.stack.storage.table));
    expect(p.BillingMode).toBe('PAY_PER_REQUEST');
    expect(p.PointInTimeRecoverySpecification).toMatchObject({ PointInTimeRecoveryEnabled: true });
    expect(p.SSESpecification).toMatchObject({ SSEEnabled: true });
  });
});

describe('GPU training on AWS Batch', () => {
  it('runs a managed EC2/Spot compute environment on the config’s GPU instance types, in the VPC’s private subnets', () => {
    const envs = resourcesOf(s.template, 'AWS::Batch::ComputeEnvironment');
    expect(envs).toHaveLength(1);
    const p = envs[0]?.[1].Properties ?? {};
    expect(p.Type).toBe('managed');
    const compute = p.ComputeResources as Record<string, unknown>;
    expect(['EC2', 'SPOT']).toContain(compute.Type);
    expect(compute.Type).toBe(Object.values(config.models).every((m) => m.training.spot) ? 'SPOT' : 'EC2');
    expect([...(compute.InstanceTypes as string[])].sort()).toEqual(
      [...new Set(Object.values(config.models).flatMap((m) => m.training.instanceTypes))].sort(),
    );
    expect(compute.Ec2Configuration).toContainEqual({ ImageType: 'ECS_AL2023_NVIDIA' });
    const vpcId = idOf(s.stack.training.vpc);
    expect(resources[vpcId]?.Type).toBe('AWS::EC2::VPC');
    const privateSubnets = s.stack.training.vpc.privateSubnets.map((sn) => idOf(sn));
    expect(
      list(compute.Subnets as unknown[])
        .map(refOf)
        .sort(),
    ).toEqual([...privateSubnets].sort());
  });

  it('has a job queue on that compute environment', () => {
    const queue = props(idOf(s.stack.training.queue));
    const order = queue.ComputeEnvironmentOrder as { ComputeEnvironment: unknown }[];
    expect(order.map((o) => refOf(o.ComputeEnvironment))).toEqual([
      idOf(s.stack.training.computeEnvironment),
    ]);
  });

  it('has a train and a predict job definition per model, its trainer container on the model image with its GPU', () => {
    const defs = resourcesOf(s.template, 'AWS::Batch::JobDefinition');
    expect(defs.map(([, r]) => r.Properties?.JobDefinitionName).sort()).toEqual(
      models.flatMap((m) => [`${s.stack.training.jobDefinitionPrefix}${m}`, `mlcycle-predict-${m}`]).sort(),
    );
    const assets = JSON.parse(readFileSync(join(s.outdir, `${s.stack.artifactId}.assets.json`), 'utf8')) as {
      dockerImages: Record<string, { source: { directory: string; dockerFile?: string } }>;
    };
    // One image per trainer folder the models name (training.image), plus the platform's stager.
    const folders = [...new Set(Object.values(config.models).map((m) => m.training.image))];
    expect(Object.keys(assets.dockerImages)).toHaveLength(folders.length + 1);
    for (const [model, m] of Object.entries(config.models)) {
      const def = defs.find(
        ([, r]) => r.Properties?.JobDefinitionName === `${s.stack.training.jobDefinitionPrefix}${model}`,
      );
      const ecs = (def?.[1].Properties?.EcsProperties ?? { TaskProperties: [] }) as {
        TaskProperties: { Containers: Record<string, unknown>[] }[];
      };
      const task = ecs.TaskProperties[0];
      const trainer = task?.Containers.find((c) => c.Name === 'trainer');
      const requirements = (trainer?.ResourceRequirements ?? []) as { Type: string; Value: string }[];
      // A CPU-only model (gpus: 0, e.g. the scikit-learn ltv) asks for no GPU.
      expect(requirements.find((r) => r.Type === 'GPU')?.Value, model).toBe(
        m.training.resources.gpus > 0 ? String(m.training.resources.gpus) : undefined,
      );
      expect(def?.[1].Properties?.PlatformCapabilities).toEqual(['EC2']);
      expect(def?.[1].Properties?.Timeout).toEqual({
        AttemptDurationSeconds: m.training.timeoutMinutes * 60,
      });
    }
  });

  it('stages only what the trainer Dockerfile copies (its .dockerignore), with the Dockerfile itself', () => {
    const assets = JSON.parse(readFileSync(join(s.outdir, `${s.stack.artifactId}.assets.json`), 'utf8')) as {
      dockerImages: Record<string, { source: { directory: string } }>;
    };
    const reference = Object.values(assets.dockerImages).find(
      (i) => (i as { source: { dockerFile?: string } }).source.dockerFile === 'containers/trainer/Dockerfile',
    );
    const dir = join(s.outdir, reference?.source.directory ?? 'missing');
    expect(existsSync(join(dir, 'containers/trainer/Dockerfile'))).toBe(true);
    expect(existsSync(join(dir, 'containers/trainer/src/train.ts'))).toBe(true);
    expect(existsSync(join(dir, 'package-lock.json'))).toBe(true);
    expect(existsSync(join(dir, 'lambdas/contracts/env.ts'))).toBe(true);
    expect(readdirSync(dir).sort()).toEqual([
      'containers',
      'lambdas',
      'package-lock.json',
      'package.json',
      'tsconfig.json',
    ]);
  });
});

describe('lifecycle state machine', () => {
  const smId = () => idOf(s.stack.lifecycle.stateMachine);

  it('inlines the one ASL file, with Train, Evaluate, Register, Gate, Approve and Deploy', () => {
    const p = props(smId());
    expect(p.DefinitionS3Location).toBeUndefined();
    expect(typeof p.DefinitionString).toBe('string');
    const definition = JSON.parse(p.DefinitionString as string) as {
      States: Record<string, { Type: string; Resource?: string }>;
    };
    expect(definition).toEqual(JSON.parse(readFileSync(ASL_FILE, 'utf8')));
    for (const state of ['Train', 'Evaluate', 'Register', 'Gate', 'Approve', 'Deploy']) {
      expect(definition.States[state]?.Type, state).toBe('Task');
    }
    // Multi-container (ecsProperties) jobs: the SDK integration with a task token, never `.sync`,
    // whose own container overrides Batch refuses for such jobs (lambdas/contracts/batch-jobs.ts).
    for (const state of ['Train', 'Predict', 'SmokePredict']) {
      expect(definition.States[state]?.Resource, state).toBe(BATCH_JOB_RESOURCE);
    }
    expect(JSON.stringify(definition)).not.toContain('ContainerOverrides');
    expect(JSON.stringify(definition)).not.toContain('submitJob.sync');
    expect(definition.States.Approve?.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
  });

  it('ends a skipped retrain (PrepareRun throws RetrainSkipped) in the Skipped Succeed state, before the catch-all', () => {
    const definition = JSON.parse(props(smId()).DefinitionString as string) as {
      States: Record<string, { Type: string; Catch?: { ErrorEquals: string[]; Next: string }[] }>;
    };
    const catches = definition.States.PrepareRun?.Catch ?? [];
    expect(catches.map((c) => [c.ErrorEquals, c.Next])).toEqual([
      [['RetrainSkipped'], 'Skipped'],
      [['States.ALL'], 'OnPreparationFailure'],
    ]);
    expect(definition.States.Skipped?.Type).toBe('Succeed');
  });

  it('runs a sweep as an inline Map over the planned trials, MaxConcurrency from the spec, each trial a Batch job of the model', () => {
    type State = {
      Type: string;
      Resource?: string;
      Next?: string;
      Parameters?: Record<string, unknown>;
      [k: string]: unknown;
    };
    const definition = JSON.parse(props(smId()).DefinitionString as string) as {
      States: Record<string, State>;
    };
    const mode = definition.States['Mode?'] as unknown as {
      Choices: { Variable: string; IsPresent?: boolean; Next: string }[];
    };
    expect(mode.Choices[0]).toEqual({ Variable: '$.sweep', IsPresent: true, Next: 'Trials' });
    const trials = definition.States.Trials as State & {
      ItemProcessor: { ProcessorConfig: { Mode: string }; StartAt: string; States: Record<string, State> };
    };
    expect(trials.Type).toBe('Map');
    expect(trials.ItemsPath).toBe('$.sweep.trials');
    // One definition serves any spec: the concurrency is read from the state, not written in it.
    expect(trials.MaxConcurrencyPath).toBe('$.sweep.concurrency');
    expect(trials.MaxConcurrency).toBeUndefined();
    expect(trials.ItemProcessor.ProcessorConfig.Mode).toBe('INLINE');
    expect(trials.Next).toBe('PickBest');
    const inner = trials.ItemProcessor.States;
    const placeholder = (name: string) => `\${${name}}`;
    // Per trial: the run's own Lambdas and Batch jobs (the same queue and job definitions as a run).
    expect(inner.TrialPrepare?.Resource).toBe(placeholder('PrepareRunFunctionArn'));
    expect(inner.TrialCheck?.Resource).toBe(placeholder('CheckTrialFunctionArn'));
    expect(inner.TrialEvaluate?.Resource).toBe(placeholder('EvaluateFunctionArn'));
    for (const [name, of] of [
      ['TrialTrain', 'Train'],
      ['TrialPredict', 'Predict'],
    ] as const) {
      expect(inner[name]?.Resource, name).toBe(BATCH_JOB_RESOURCE);
      expect(inner[name]?.Parameters?.JobQueue, name).toBe(definition.States[of]?.Parameters?.JobQueue);
      expect(inner[name]?.Parameters?.['JobDefinition.$'], name).toBe(
        definition.States[of]?.Parameters?.['JobDefinition.$'],
      );
    }
    // A failed trial ends its own iteration (TrialFailed), not the Map.
    for (const name of ['TrialPrepare', 'TrialTrain', 'TrialCheck', 'TrialPredict', 'TrialEvaluate']) {
      const catches = inner[name]?.Catch as { ErrorEquals: string[]; Next: string }[];
      expect(
        catches.map((c) => [c.ErrorEquals, c.Next]),
        name,
      ).toEqual([[['States.ALL'], 'TrialFailed']]);
    }
    expect(definition.States.PickBest?.Resource).toBe(placeholder('PickBestFunctionArn'));
    expect(definition.States.PickBest?.Next).toBe('Register');
    const substitutions = props(smId()).DefinitionSubstitutions as Record<string, unknown>;
    expect(substitutions.CheckTrialFunctionArn).toEqual({ 'Fn::GetAtt': [fnId('checkTrial'), 'Arn'] });
    expect(substitutions.PickBestFunctionArn).toEqual({ 'Fn::GetAtt': [fnId('pickBest'), 'Arn'] });
  });

  it('gives the sweep Lambdas only their partitions and the runs/ prefix, never a wildcard', () => {
    for (const name of ['checkTrial', 'pickBest'] as const) {
      const mine = statements.filter((a) => a.roles.includes(roleId(name)) && a.statement.Effect === 'Allow');
      expect(mine.length, name).toBeGreaterThan(0);
      for (const a of mine) {
        const actions = actionsOf(a.statement);
        expect(
          actions.some((x) => x === '*' || x.endsWith(':*')),
          `${name} ${actions}`,
        ).toBe(false);
        expect(
          actions.some((x) => /^(states|batch|lambda|iam):/.test(x)),
          `${name} ${actions}`,
        ).toBe(false);
        const s3 = actions.filter((x) => x.startsWith('s3:'));
        if (name === 'pickBest') expect(s3, name).toEqual([]);
        for (const r of list(a.statement.Resource as unknown[])) {
          const text = JSON.stringify(Stack.of(s.stack).resolve(r as IResolvable));
          if (text.includes(':s3:') || text.includes('/*"')) expect(text, name).toMatch(/runs\//);
        }
      }
    }
  });

  it('leaves no $-brace placeholder without a substitution, and substitutes the right resources', () => {
    const p = props(smId());
    const text = p.DefinitionString as string;
    const placeholders = [...new Set([...text.matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1]))].sort();
    const substitutions = p.DefinitionSubstitutions as Record<string, unknown>;
    expect(Object.keys(substitutions).sort()).toEqual(placeholders);
    for (const [name, contract] of HANDLER_ENTRIES) {
      const placeholder = (contract as { aslPlaceholder?: string }).aslPlaceholder;
      if (placeholder)
        expect(substitutions[placeholder], placeholder).toEqual({ 'Fn::GetAtt': [fnId(name), 'Arn'] });
    }
    expect(substitutions[ASL_PLACEHOLDERS.trainingJobQueueArn]).toEqual({
      'Fn::GetAtt': [idOf(s.stack.training.queue), 'JobQueueArn'],
    });
    expect(substitutions[ASL_PLACEHOLDERS.trainingJobDefinitionPrefix]).toBe(
      s.stack.training.jobDefinitionPrefix,
    );
  });

  it('logs every event to its log group (without execution data) and traces with X-Ray', () => {
    const p = props(smId());
    expect(p.TracingConfiguration).toEqual({ Enabled: true });
    expect(p.LoggingConfiguration).toEqual({
      Destinations: [
        {
          CloudWatchLogsLogGroup: {
            LogGroupArn: { 'Fn::GetAtt': [idOf(s.stack.lifecycle.logGroup), 'Arn'] },
          },
        },
      ],
      IncludeExecutionData: false,
      Level: 'ALL',
    });
  });
});

describe('Lambdas', () => {
  const envOf = (name: HandlerName) =>
    ((props(fnId(name)).Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ??
      {}) as Record<string, unknown>;

  it('are exactly the contract’s handlers plus CDK’s bucket-notification handler', () => {
    const ours = HANDLER_ENTRIES.map(([name]) => fnId(name)).sort();
    const all = resourcesOf(s.template, 'AWS::Lambda::Function').map(([id]) => id);
    const others = all.filter((id) => !ours.includes(id));
    expect(all.filter((id) => ours.includes(id)).sort()).toEqual(ours);
    expect(others).toHaveLength(1);
    expect(others[0]).toMatch(/^BucketNotificationsHandler/);
  });

  it.each(HANDLER_ENTRIES)(
    '%s runs on Node.js 22 or newer with the contract’s sizing and tracing',
    (name, contract) => {
      const p = props(fnId(name));
      const major = Number(/^nodejs(\d+)\.x$/.exec(String(p.Runtime))?.[1]);
      expect(major).toBeGreaterThanOrEqual(22);
      expect(p.MemorySize).toBe(contract.memoryMb);
      expect(p.Timeout).toBe(contract.timeoutSeconds);
      expect(p.TracingConfig).toEqual({ Mode: 'Active' });
    },
  );

  it.each(HANDLER_ENTRIES)('%s gets exactly the environment its contract requires', (name, contract) => {
    // Optional variables (drift retraining) are set only when retrainOnCritical is on (below);
    // AWS-only ones (the CDN's id) always, to the handlers that list them.
    expect(Object.keys(envOf(name)).sort()).toEqual(
      [...contract.env, ...awsOnly(contract), ENV.serviceName].sort(),
    );
  });

  it('gives the variables the values of this stack’s resources', () => {
    const expectedRefs: Partial<Record<string, string>> = {
      [ENV.table]: idOf(s.stack.storage.table),
      [ENV.bucket]: idOf(s.stack.storage.bucket),
      [ENV.alertTopicArn]: idOf(s.stack.monitoring.topic),
      [ENV.signingSecretArn]: idOf(s.stack.api.signingKey),
    };
    for (const [name] of HANDLER_ENTRIES) {
      const env = envOf(name);
      for (const [key, value] of Object.entries(env)) {
        const ref = expectedRefs[key];
        if (ref) expect(refOf(value), `${name} ${key}`).toBe(ref);
        if (key === ENV.configFile) expect(value).toBe(DEPLOYED_CONFIG_PATH);
        if (key === ENV.authMode) expect(value).toBe('iam');
        if (key === ENV.emailSender) expect(value).toBe(config.notifications.sender);
        if (key === ENV.approvalBaseUrl) expect(JSON.stringify(value)).toContain(idOf(s.stack.api.api));
        // The code the trainer images were built from, as their jobs get it: one value.
        if (key === ENV.codeVersion) expect(value).toBe(s.stack.training.codeVersion);
      }
    }
  });

  it('sizes the baseline and drift functions for a 2 GB upload (≥ 3008 MB, 15 minutes)', () => {
    for (const name of ['baseline', 'drift'] as const) {
      const p = props(fnId(name));
      expect(p.MemorySize as number).toBeGreaterThanOrEqual(3008);
      expect(p.Timeout).toBe(900);
      // They stream from S3 and write nothing to /tmp, so the default ephemeral storage suffices;
      // if it is ever set, it must hold the file.
      const ephemeral = (p.EphemeralStorage as { Size: number } | undefined)?.Size;
      if (ephemeral !== undefined) expect(ephemeral).toBeGreaterThanOrEqual(2048);
    }
  });
});

describe('schedules', () => {
  it('retrains each scheduled model weekly through the start function, which records the schedule as requestor', () => {
    const retrain = fnId('scheduledRetrain');
    const rules = resourcesOf(s.template, 'AWS::Events::Rule').filter(([, r]) =>
      list(r.Properties?.Targets as { Arn: unknown }[]).some((t) => refOf(t.Arn) === retrain),
    );
    const scheduled = Object.entries(config.models).filter(([, m]) => m.schedule.enabled);
    expect(rules).toHaveLength(scheduled.length);
    for (const [model, m] of scheduled) {
      const rule = rules.find(([, r]) => r.Properties?.ScheduleExpression === m.schedule.retrain);
      expect(rule, model).toBeDefined();
      const fields = /^cron\((.*)\)$/.exec(m.schedule.retrain)?.[1]?.split(' ') ?? [];
      expect(fields).toHaveLength(6);
      expect(fields[2]).toBe('?');
      expect(fields[4]).toMatch(/^(MON|TUE|WED|THU|FRI|SAT|SUN|[1-7])$/);
      const target = list(rule?.[1].Properties?.Targets as { Input: string }[])[0];
      // The event names the model only: stage, settings and policy come from the deployed config.
      expect(JSON.parse(target?.Input ?? 'null')).toEqual({ model });
    }
    // Nothing but the start functions (and drift, when it retrains) may start an execution.
    const starters = statements
      .filter((a) => actionsOf(a.statement).includes('states:StartExecution'))
      .flatMap((a) => a.roles);
    expect([...new Set(starters)].sort()).toEqual([roleId('startHttp'), roleId('scheduledRetrain')].sort());
  });

  it('runs the cleanup Lambda daily', () => {
    const rule = idOf(s.stack.schedules.functionRules.cleanup as IConstruct);
    const p = props(rule);
    expect(p.ScheduleExpression).toMatch(/^cron\(\d+ \d+ \* \* \? \*\)$/);
    expect(list(p.Targets as { Arn: unknown }[]).map((t) => t.Arn)).toEqual([
      { 'Fn::GetAtt': [fnId('cleanup'), 'Arn'] },
    ]);
    s.template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [fnId('cleanup'), 'Arn'] },
      SourceArn: { 'Fn::GetAtt': [rule, 'Arn'] },
    });
  });
});

describe('approval reminders', () => {
  const reminders = () => fnId('approvalReminders');
  const reminderRole = () => idOf(s.stack.functions.role('approvalReminders'));
  const ofRole = (role: string) => statements.filter((a) => a.roles.includes(role)).map((a) => a.statement);

  it('is, with the approval reconciler and the cleanup, a contract handler with a schedule, and its rule invokes it on that schedule', () => {
    const scheduled = HANDLER_ENTRIES.filter(([, c]) => c.schedule);
    expect(scheduled.map(([name]) => name)).toEqual(['approvalReminders', 'approvalReconciler', 'cleanup']);
    expect(HANDLERS.approvalReminders.schedule).toMatch(/^rate\(\d+ (minute|minutes|hour|hours)\)$/);
    const rules = resourcesOf(s.template, 'AWS::Events::Rule').filter(([, r]) =>
      list(r.Properties?.Targets as { Arn: unknown }[]).some((t) => refOf(t.Arn) === reminders()),
    );
    expect(rules).toHaveLength(1);
    const [ruleId, rule] = rules[0] ?? ['', { Type: '' }];
    expect(ruleId).toBe(idOf(s.stack.schedules.functionRules.approvalReminders as IConstruct));
    expect(rule.Properties?.ScheduleExpression).toBe(HANDLERS.approvalReminders.schedule);
    expect(rule.Properties?.State).toBe('ENABLED');
    // The scheduled event itself (no Input override): the handler validates its shape.
    expect(list(rule.Properties?.Targets as Record<string, unknown>[])).toEqual([
      { Arn: { 'Fn::GetAtt': [reminders(), 'Arn'] }, Id: expect.any(String) },
    ]);
    s.template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [reminders(), 'Arn'] },
      SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] },
    });
  });

  it('gets the table, the approval base URL, the signing secret and the sender, and no bucket', () => {
    const env = (props(reminders()).Environment as { Variables: Record<string, unknown> }).Variables;
    expect(Object.keys(env).sort()).toEqual(
      [ENV.table, ENV.approvalBaseUrl, ENV.signingSecretArn, ENV.emailSender, ENV.serviceName].sort(),
    );
    expect(refOf(env[ENV.table])).toBe(idOf(s.stack.storage.table));
    expect(refOf(env[ENV.signingSecretArn])).toBe(idOf(s.stack.api.signingKey));
    expect(env[ENV.emailSender]).toBe(config.notifications.sender);
    // The same base URL as the first email's links.
    expect(env[ENV.approvalBaseUrl]).toEqual(
      (props(fnId('requestApproval')).Environment as { Variables: Record<string, unknown> }).Variables[
        ENV.approvalBaseUrl
      ],
    );
  });

  it('may only Query the table and its index, update items, read the signing key and send the approval emails', () => {
    const mine = ofRole(reminderRole());
    const actions = new Set(mine.flatMap(actionsOf));
    const logsAndTraces = [...actions].filter((a) => /^(logs|xray):/.test(a));
    expect([...actions].filter((a) => !logsAndTraces.includes(a)).sort()).toEqual(
      [
        'dynamodb:Query',
        'dynamodb:UpdateItem',
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
        'ses:SendEmail',
        // The dead-letter destination (CDK's queue.grantSendMessages).
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:SendMessage',
      ].sort(),
    );
    expect(logsAndTraces.every((a) => /^(logs:(CreateLogStream|PutLogEvents)|xray:Put\w+)$/.test(a))).toBe(
      true,
    );
    const table = { 'Fn::GetAtt': [idOf(s.stack.storage.table), 'Arn'] };
    const query = mine.filter((st) => actionsOf(st).includes('dynamodb:Query'));
    expect(query.map((st) => actionsOf(st))).toEqual([['dynamodb:Query']]);
    const queried = list(query[0]?.Resource as unknown[]);
    expect(queried).toHaveLength(2);
    expect(queried[0]).toEqual(table);
    expect(JSON.stringify(queried[1])).toContain('/index/GSI1');
    const update = mine.filter((st) => actionsOf(st).includes('dynamodb:UpdateItem'));
    expect(update.map((st) => [actionsOf(st), st.Resource])).toEqual([[['dynamodb:UpdateItem'], table]]);
    for (const st of mine.filter((x) => actionsOf(x).some((a) => a.startsWith('secretsmanager:')))) {
      expect(st.Resource).toEqual({ Ref: idOf(s.stack.api.signingKey) });
    }
    // Mail goes through exactly the request-approval function's SES grant (identity, sender).
    const ses = (role: string) => ofRole(role).filter((st) => actionsOf(st).includes('ses:SendEmail'));
    expect(ses(reminderRole())).toHaveLength(1);
    expect(ses(reminderRole())).toEqual(ses(idOf(s.stack.functions.role('requestApproval'))));
    expect(ses(reminderRole())[0]?.Condition).toEqual({
      StringEquals: { 'ses:FromAddress': config.notifications.sender },
    });
    for (const st of mine.filter((x) => actionsOf(x).some((a) => a.startsWith('sqs:')))) {
      expect(st.Resource).toEqual({ 'Fn::GetAtt': [idOf(s.stack.monitoring.deadLetters), 'Arn'] });
    }
  });

  it('sends a run that failed every retry to the dead-letter queue, and alarms on its errors', () => {
    const configs = resourcesOf(s.template, 'AWS::Lambda::EventInvokeConfig').filter(
      ([, r]) => refOf(r.Properties?.FunctionName) === reminders(),
    );
    expect(configs).toHaveLength(1);
    expect(configs[0]?.[1].Properties?.DestinationConfig).toEqual({
      OnFailure: { Destination: { 'Fn::GetAtt': [idOf(s.stack.monitoring.deadLetters), 'Arn'] } },
    });
    const alarms = resourcesOf(s.template, 'AWS::CloudWatch::Alarm').filter(([, r]) =>
      list(r.Properties?.Dimensions as { Value: unknown }[]).some((d) => refOf(d.Value) === reminders()),
    );
    expect(alarms.map(([, r]) => r.Properties?.MetricName)).toEqual(['Errors']);
  });
});

describe('approval API, secret, email and alerts', () => {
  it('declares exactly the routes contract: each route to its Lambda, control routes behind the IAM authorizer', () => {
    const integrations = new Map(
      resourcesOf(s.template, 'AWS::ApiGatewayV2::Integration').map(([id, r]) => [
        id,
        refOf(r.Properties?.IntegrationUri),
      ]),
    );
    const routes = resourcesOf(s.template, 'AWS::ApiGatewayV2::Route').map(([, r]) => {
      // Target is `integrations/<Ref integration>`.
      const integration = [...integrations.keys()].find((id) =>
        JSON.stringify(r.Properties?.Target).includes(`"${id}"`),
      );
      return {
        key: r.Properties?.RouteKey,
        fn: integration ? integrations.get(integration) : 'no integration',
        auth: r.Properties?.AuthorizationType ?? 'NONE',
      };
    });
    const byKey = (a: { key: unknown }, b: { key: unknown }) => String(a.key).localeCompare(String(b.key));
    expect(routes.sort(byKey)).toEqual(
      HTTP_ROUTES.map((r) => ({
        key: routeKey(r),
        fn: fnId(r.handler),
        auth: r.auth === 'iam' ? 'AWS_IAM' : 'NONE',
      })).sort(byKey),
    );
    // Runs, promotions, rollbacks, registrations and CLI decisions are never open.
    for (const key of [
      'POST /runs',
      'POST /promotions',
      'POST /rollbacks',
      'POST /versions',
      'POST /approvals/{id}/decisions',
    ]) {
      expect(routes.find((r) => r.key === key)?.auth, key).toBe('AWS_IAM');
    }
    const stage = resourcesOf(s.template, 'AWS::ApiGatewayV2::Stage')[0]?.[1].Properties ?? {};
    expect(stage.AccessLogSettings).toBeDefined();
    expect(stage.DefaultRouteSettings).toMatchObject({ ThrottlingRateLimit: expect.any(Number) });
  });

  it('keeps the link-signing key in Secrets Manager, generated at deploy', () => {
    const p = props(idOf(s.stack.api.signingKey));
    expect(resources[idOf(s.stack.api.signingKey)]?.Type).toBe('AWS::SecretsManager::Secret');
    expect(p.GenerateSecretString).toMatchObject({ PasswordLength: 64 });
    expect(p.SecretString).toBeUndefined();
  });

  it('sends email from the configured SES identity through a configuration set', () => {
    const identities = resourcesOf(s.template, 'AWS::SES::EmailIdentity');
    expect(identities).toHaveLength(1);
    const p = identities[0]?.[1].Properties ?? {};
    expect(p.EmailIdentity).toBe(config.notifications.sender);
    expect(
      refOf((p.ConfigurationSetAttributes as { ConfigurationSetName: unknown }).ConfigurationSetName),
    ).toBe(idOf(s.stack.api.configurationSet));
  });

  it('has an encrypted SNS alert topic with the configured email subscriptions', () => {
    const p = props(idOf(s.stack.monitoring.topic));
    expect(refOf(p.KmsMasterKeyId)).toBe(idOf(s.stack.monitoring.key));
    const subs = resourcesOf(s.template, 'AWS::SNS::Subscription').map(([, r]) => r.Properties ?? {});
    expect(subs.map((x) => x.Endpoint).sort()).toEqual([...config.monitoring.alerts.email].sort());
    expect(
      subs.every((x) => x.Protocol === 'email' && refOf(x.TopicArn) === idOf(s.stack.monitoring.topic)),
    ).toBe(true);
  });
});

describe('least-privilege IAM', () => {
  const smRole = () => idOf(s.stack.lifecycle.role);
  const smArn = () => ({ Ref: idOf(s.stack.lifecycle.stateMachine) });

  it('lets the state machine invoke exactly the Lambdas its ASL names, and no other role invoke any', () => {
    const invoking = granting('lambda:InvokeFunction');
    expect(new Set(invoking.flatMap((a) => a.roles))).toEqual(new Set([smRole()]));
    const invoked = invoking.flatMap((a) => list(a.statement.Resource as unknown[]));
    const expected = HANDLER_ENTRIES.filter(([, c]) => (c as { aslPlaceholder?: string }).aslPlaceholder).map(
      ([name]) => ({
        'Fn::GetAtt': [fnId(name), 'Arn'],
      }),
    );
    expect(invoked).toHaveLength(expected.length);
    expect(invoked).toEqual(expect.arrayContaining(expected));
  });

  it('lets the state machine submit exactly its job definitions to its queue, and no one else submit', () => {
    const submitting = granting('batch:SubmitJob');
    expect(submitting.map((a) => a.roles)).toEqual([[smRole()]]);
    const [queue, ...definitions] = list(submitting[0]?.statement.Resource as unknown[]);
    expect(queue).toEqual({ 'Fn::GetAtt': [idOf(s.stack.training.queue), 'JobQueueArn'] });
    const flat = definitions.map((d) => JSON.stringify(Stack.of(s.stack).resolve(d as IResolvable)));
    // Per model: its train job and its predict (evaluation) job, each by name and name:revision.
    expect(flat).toHaveLength(models.length * 4);
    for (const model of models) {
      for (const prefix of [s.stack.training.jobDefinitionPrefix, 'mlcycle-predict-']) {
        const name = `${prefix}${model}`;
        expect(
          flat.filter(
            (f) => f.includes(`:job-definition/${name}"`) || f.includes(`:job-definition/${name}:*"`),
          ),
          name,
        ).toHaveLength(2);
      }
    }
    expect(flat.every((f) => /job-definition\/[a-z0-9-]+(:\*)?"/.test(f))).toBe(true);
  });

  it('lets only the approval callbacks (link, signed CLI decision), the reconciler and the end of a Batch job complete task tokens, of this state machine', () => {
    for (const action of ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat']) {
      const found = granting(action);
      if (action === 'states:SendTaskHeartbeat') {
        expect(found).toEqual([]);
        continue;
      }
      expect(found.flatMap((a) => a.roles).sort(), action).toEqual(
        [
          roleId('approvalHttp'),
          roleId('decisionHttp'),
          roleId('approvalReconciler'),
          roleId('batchJobEnded'),
        ].sort(),
      );
      for (const f of found) expect(f.statement.Resource).toEqual(smArn());
    }
  });

  it('lets only what handles an ended execution, the trial watcher and `runs cancel` terminate Batch jobs, and only this account’s', () => {
    const terminating = granting('batch:TerminateJob');
    // The reconciler handles an ended execution too, when its event was missed.
    expect(terminating.flatMap((a) => a.roles).sort()).toEqual(
      [
        roleId('executionEnded'),
        roleId('approvalReconciler'),
        roleId('watchTrial'),
        roleId('runControlHttp'),
      ].sort(),
    );
    for (const a of terminating) {
      expect(actionsOf(a.statement)).toEqual(['batch:TerminateJob']);
      expect(JSON.stringify(a.statement.Resource)).toContain(':job/*');
    }
  });

  it('lets only `runs cancel` and `sweep stop` (run-control-http) stop executions, and only the lifecycle’s', () => {
    const stopping = granting('states:StopExecution');
    expect(stopping.flatMap((a) => a.roles)).toEqual([roleId('runControlHttp')]);
    for (const a of stopping) {
      const resource = JSON.stringify(a.statement.Resource);
      expect(resource).toContain(':execution:');
      expect(resource).toContain(
        s.stack.getLogicalId(s.stack.lifecycle.stateMachine.node.defaultChild as CfnElement),
      );
      expect(resource).toMatch(/:\*"\]\]\}$/);
    }
  });

  it('lets PrepareRun only describe the lifecycle’s executions (is its own still running?), named without a reference back to the state machine', () => {
    const describing = granting('states:DescribeExecution').filter((a) =>
      a.roles.includes(roleId('prepareRun')),
    );
    expect(describing).toHaveLength(1);
    const [only] = describing;
    expect(actionsOf(only?.statement ?? {})).toEqual(['states:DescribeExecution']);
    const resource = JSON.stringify(only?.statement.Resource);
    // The name as configured: a GetAtt of the state machine here would be a dependency cycle
    // (the state machine invokes PrepareRun, whose policy would name the state machine).
    expect(resource).toContain(':execution:mlcycle-lifecycle:*');
    expect(resource).not.toContain(
      s.stack.getLogicalId(s.stack.lifecycle.stateMachine.node.defaultChild as CfnElement),
    );
  });

  it('lets only the start service start executions (drift retraining is off in the default config)', () => {
    const starting = granting('states:StartExecution');
    for (const a of starting) expect(a.statement.Resource).toEqual(smArn());
    expect(starting.flatMap((a) => a.roles).sort()).toEqual(
      [roleId('startHttp'), roleId('scheduledRetrain')].sort(),
    );
  });

  it('grants no wildcard action on a whole service', () => {
    for (const a of statements) {
      for (const action of actionsOf(a.statement))
        expect(action, a.policy).not.toMatch(/^(\*|[a-z0-9-]+:\*)$/);
    }
  });

  it('uses Resource "*" only for actions without resource-level permissions, each acknowledged with a reason', () => {
    const star = statements.filter((a) => list(a.statement.Resource as unknown[]).includes('*'));
    expect(star.length).toBeGreaterThan(0);
    const byLogicalId = new Map<string, IConstruct>();
    for (const c of s.stack.node.findAll()) {
      if ((c as CfnElement).logicalId !== undefined && (c as { cfnResourceType?: string }).cfnResourceType) {
        byLogicalId.set(s.stack.getLogicalId(c as CfnElement), c);
      }
    }
    for (const a of star) {
      expect(list(a.statement.Resource as unknown[]), a.policy).toEqual(['*']);
      expect(a.statement.Condition, a.policy).toBeUndefined();
      const construct = byLogicalId.get(a.policy);
      expect(construct, a.policy).toBeDefined();
      const reason = acknowledgement(construct, 'AwsSolutions-IAM5[Resource::*]');
      expect(reason, `${a.policy} has no IAM5[Resource::*] acknowledgement`).toBeDefined();
      for (const action of actionsOf(a.statement)) {
        const mentions = NO_RESOURCE_LEVEL[action];
        expect(mentions, `${a.policy}: ${action} on "*"`).toBeDefined();
        if (mentions) expect(reason, `${a.policy}: the reason does not cover ${action}`).toMatch(mentions);
      }
    }
  });
});

describe('drift retraining (retrainOnCritical on)', () => {
  let r: SynthesizedApp;
  beforeAll(() => {
    const raw = defaultRawConfig();
    const monitoring = {
      ...(raw.monitoring as Record<string, unknown>),
      retrainOnCritical: { enabled: true, cooldownHours: 12 },
    };
    r = synthApp({ ...raw, monitoring }, { bundle: false });
  });
  afterAll(() => r?.dispose());

  it('gives drift the optional variables and lets it start this state machine only', () => {
    const fn = r.stack.getLogicalId(r.stack.functions.get('drift').node.defaultChild as CfnElement);
    const env = (r.template.toJSON().Resources[fn].Properties.Environment.Variables ?? {}) as Record<
      string,
      unknown
    >;
    expect(Object.keys(env).sort()).toEqual(
      [...HANDLERS.drift.env, ...HANDLERS.drift.optionalEnv, ENV.serviceName].sort(),
    );
    // No retrain inputs in the environment: the start service builds them from the config layer.
    expect(JSON.stringify(env)).not.toContain('hyperparameters');
    const sm = r.stack.getLogicalId(r.stack.lifecycle.stateMachine.node.defaultChild as CfnElement);
    expect(refOf(env[ENV.stateMachineArn])).toBe(sm);
    const role = r.stack.getLogicalId(r.stack.functions.role('drift').node.defaultChild as CfnElement);
    const starts = identityStatements(r.template).filter((a) =>
      actionsOf(a.statement).includes('states:StartExecution'),
    );
    expect(starts.filter((a) => a.roles.includes(role)).map((a) => a.statement.Resource)).toEqual([
      { Ref: sm },
    ]);
    // Nothing else in the other functions changes (the start functions always have the ARN).
    for (const [name, contract] of HANDLER_ENTRIES.filter(([n]) => n !== 'drift')) {
      const id = r.stack.getLogicalId(r.stack.functions.get(name).node.defaultChild as CfnElement);
      const vars = r.template.toJSON().Resources[id].Properties.Environment.Variables as Record<
        string,
        unknown
      >;
      expect(Object.keys(vars).sort(), name).toEqual(
        [...contract.env, ...awsOnly(contract), ENV.serviceName].sort(),
      );
    }
  });
});

describe('a rollout policy that can promote (a primary metric)', () => {
  let r: SynthesizedApp;
  beforeAll(() => {
    const raw = defaultRawConfig();
    const models = raw.models as Record<string, Record<string, unknown>>;
    const churn = {
      ...models.churn,
      rollout: { policy: { primary: { metric: 'converted', type: 'rate', minimumEffect: 0.02 } } },
    };
    r = synthApp({ ...raw, models: { ...models, churn } }, { bundle: false });
  });
  afterAll(() => r?.dispose());

  it('lets drift start this state machine only (a better canary asks for its promotion), retraining off', () => {
    const fn = r.stack.getLogicalId(r.stack.functions.get('drift').node.defaultChild as CfnElement);
    const env = (r.template.toJSON().Resources[fn].Properties.Environment.Variables ?? {}) as Record<
      string,
      unknown
    >;
    const sm = r.stack.getLogicalId(r.stack.lifecycle.stateMachine.node.defaultChild as CfnElement);
    expect(refOf(env[ENV.stateMachineArn])).toBe(sm);
    const role = r.stack.getLogicalId(r.stack.functions.role('drift').node.defaultChild as CfnElement);
    const starts = identityStatements(r.template).filter((a) =>
      actionsOf(a.statement).includes('states:StartExecution'),
    );
    expect(starts.filter((a) => a.roles.includes(role)).map((a) => a.statement.Resource)).toEqual([
      { Ref: sm },
    ]);
  });
});

/** The reason of an acknowledgement on a construct or one of its ancestors (how cdk-nag looks it up). */
function acknowledgement(construct: IConstruct | undefined, id: string): string | undefined {
  for (let c = construct; c; c = c.node.scope) {
    for (const entry of c.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [key, reason] of Object.entries(entry.data as Record<string, string>)) {
        if (key.replace(/^annotation::/i, '') === id) return reason;
      }
    }
  }
  return undefined;
}

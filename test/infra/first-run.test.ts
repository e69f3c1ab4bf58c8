import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CfnElement, type IResolvable, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/adapters/config-file.js';
import { EXECUTION_TIMEOUT_SECONDS } from '../../lambdas/contracts/pipeline.js';
import { failureOutcome } from '../../lambdas/domain/pipeline/failure-outcome.js';
import { fromRoot } from '../../lib/paths.js';
import {
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

/**
 * Issue 15: what makes the first run on a fresh AWS account fail, pinned in the template. Each
 * block names the point of the issue it covers.
 */

const config = parseConfig(defaultRawConfig());
let s: SynthesizedApp;
let v: SynthesizedApp;

/** The default config with a domain identity, VPC endpoints and no concurrency reservation. */
function variantConfig(): Record<string, unknown> {
  const raw = defaultRawConfig() as Record<string, Record<string, unknown>>;
  return {
    ...raw,
    notifications: { sender: 'mlcycle@mail.studio.example', senderDomain: 'studio.example' },
    batch: { ...(raw.batch ?? {}), vpcEndpoints: true },
    monitoring: { ...raw.monitoring, reservedConcurrency: false },
  };
}

beforeAll(() => {
  s = synthApp(defaultRawConfig(), { bundle: false });
  v = synthApp(variantConfig(), { bundle: false });
});
afterAll(() => {
  s?.dispose();
  v?.dispose();
});

const idOf = (app: SynthesizedApp, c: IConstruct) =>
  app.stack.getLogicalId(c.node.defaultChild as CfnElement);
const resources = (app: SynthesizedApp) => app.template.toJSON().Resources as Record<string, CfnResource>;
const propsOf = (app: SynthesizedApp, c: IConstruct) => resources(app)[idOf(app, c)]?.Properties ?? {};
const resolve = (app: SynthesizedApp, value: unknown) =>
  JSON.stringify(Stack.of(app.stack).resolve(value as IResolvable));
const asl = (app: SynthesizedApp) =>
  JSON.parse(propsOf(app, app.stack.lifecycle.stateMachine).DefinitionString as string) as {
    TimeoutSeconds: number;
    States: Record<string, { TimeoutSecondsPath?: string; Parameters: Record<string, unknown> }>;
  };

describe('1. a tagged SubmitJob is allowed to tag', () => {
  it('grants batch:TagResource on the queue, the job definitions and jobs, only for the ASL’s own tag keys', () => {
    const role = idOf(s, s.stack.lifecycle.role);
    const tagging = identityStatements(s.template).filter(
      (a) => a.roles.includes(role) && actionsOf(a.statement).includes('batch:TagResource'),
    );
    expect(tagging).toHaveLength(1);
    const st = tagging[0]?.statement;
    expect(actionsOf(st ?? {})).toEqual(['batch:TagResource']);
    const targets = list(st?.Resource as unknown[]).map((r) => resolve(s, r));
    expect(targets).toContain(
      JSON.stringify({ 'Fn::GetAtt': [idOf(s, s.stack.training.queue), 'JobQueueArn'] }),
    );
    for (const model of Object.keys(config.models)) {
      const name = `${s.stack.training.jobDefinitionPrefix}${model}`;
      expect(
        targets.filter(
          (t) => t.includes(`:job-definition/${name}"`) || t.includes(`:job-definition/${name}:*"`),
        ),
      ).toHaveLength(2);
    }
    expect(targets.some((t) => t.includes(':job/*"'))).toBe(true);
    // The run's Train job and a sweep's trial jobs (which add mlcycle:sweep) tag what they submit.
    const trialTrain = (
      asl(s).States.Trials as unknown as {
        ItemProcessor: { States: Record<string, { Parameters: { Tags?: Record<string, unknown> } }> };
      }
    ).ItemProcessor.States.TrialTrain;
    const tagKeys = [
      ...new Set(
        [
          ...Object.keys(asl(s).States.Train?.Parameters.Tags ?? {}),
          ...Object.keys(trialTrain?.Parameters.Tags ?? {}),
        ].map((k) => k.replace(/\.\$$/, '')),
      ),
    ].sort();
    expect(tagKeys).toContain('mlcycle:sweep');
    expect(st?.Condition).toEqual({ 'ForAllValues:StringEquals': { 'aws:TagKeys': tagKeys } });
  });
});

describe('2. a job that never gets capacity fails with a reason', () => {
  const queueActions = (app: SynthesizedApp) =>
    propsOf(app, app.stack.training.queue).JobStateTimeLimitActions as
      | { Action: string; MaxTimeSeconds: number; Reason: string; State: string }[]
      | undefined;

  it('cancels a job stuck RUNNABLE for capacity after batch.capacityWaitMinutes, and misconfigured ones soon', () => {
    expect(queueActions(s)).toEqual(
      expect.arrayContaining([
        {
          Action: 'CANCEL',
          MaxTimeSeconds: config.batch.capacityWaitMinutes * 60,
          Reason: 'CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY',
          State: 'RUNNABLE',
        },
        {
          Action: 'CANCEL',
          MaxTimeSeconds: 600,
          Reason: 'MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE',
          State: 'RUNNABLE',
        },
        {
          Action: 'CANCEL',
          MaxTimeSeconds: 600,
          Reason: 'MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT',
          State: 'RUNNABLE',
        },
      ]),
    );
    expect(queueActions(s)).toHaveLength(3);
  });

  it('turns each cancellation the queue can make into a failure record that says what to check', () => {
    const actions = queueActions(s) ?? [];
    expect(actions.length).toBeGreaterThan(0);
    for (const action of actions) {
      const cause = JSON.stringify({
        JobName: 'mlcycle-churn-r1',
        Status: 'FAILED',
        StatusReason: `Canceled by JobStateTimeLimit action due to reason: ${action.Reason}`,
      });
      const detail = failureOutcome('training', 'States.TaskFailed', cause).detail;
      if (action.Reason.startsWith('CAPACITY:'))
        expect(detail).toMatch(/no capacity: check the Spot G\/VT quota/);
      else expect(detail).toMatch(/maxvCpus|instance type/);
    }
  });
});

describe('3. the trainer image runs on x86 GPU instances', () => {
  it('builds the image for linux/amd64 whatever the laptop', () => {
    const assets = JSON.parse(readFileSync(join(s.outdir, `${s.stack.artifactId}.assets.json`), 'utf8')) as {
      dockerImages: Record<string, { source: { platform?: string } }>;
    };
    const images = Object.values(assets.dockerImages);
    expect(images.length).toBeGreaterThan(0);
    for (const image of images) expect(image.source.platform).toBe('linux/amd64');
  });
});

describe('4. the timeouts add up', () => {
  it('gives the execution Step Functions’ own ceiling, which the config validation budgets against', () => {
    expect(asl(s).TimeoutSeconds).toBe(EXECUTION_TIMEOUT_SECONDS);
  });

  it('times the Train task by the whole budget and each Batch attempt by the per-attempt timeout', () => {
    const train = asl(s).States.Train ?? { Parameters: {} };
    expect(train.TimeoutSecondsPath).toBe('$.training.taskTimeoutSeconds');
    expect(train.Parameters.Timeout).toEqual({ 'AttemptDurationSeconds.$': '$.training.timeoutSeconds' });
  });
});

describe('5. many models with retraining on critical drift still deploy', () => {
  it('keeps retrain inputs out of the environment: eight models synthesise, every function well under 4 KB', () => {
    const raw = defaultRawConfig() as Record<string, Record<string, unknown>>;
    const churn = (raw.models as Record<string, unknown>).churn;
    const models = Object.fromEntries(
      ['churn', 'ltv', 'matchmaker', 'toxicity', 'fraud', 'difficulty', 'recommender', 'payer'].map((m) => [
        m,
        churn,
      ]),
    );
    const many = synthApp(
      { ...raw, models, monitoring: { ...raw.monitoring, retrainOnCritical: { enabled: true } } },
      { bundle: false },
    );
    try {
      for (const [id, r] of resourcesOf(many.template, 'AWS::Lambda::Function')) {
        const vars = (r.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)
          ?.Variables;
        expect(JSON.stringify(vars ?? {}).length, id).toBeLessThan(1500);
      }
      // Drift starts retrains through the start service: it has the state machine's ARN, no inputs.
      const drift = resources(many)[idOf(many, many.stack.functions.get('drift'))]?.Properties ?? {};
      const env = (drift.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(Object.keys(env)).toContain('MLCYCLE_STATE_MACHINE_ARN');
      expect(JSON.stringify(env)).not.toContain('hyperparameters');
    } finally {
      many.dispose();
    }
  });
});

describe('6. a redeploy after `cdk destroy` does not collide with what was retained', () => {
  it('gives no retained resource a fixed physical name', () => {
    const nameKeys = [
      'TableName',
      'BucketName',
      'LogGroupName',
      'Name',
      'QueueName',
      'TopicName',
      'KeyAlias',
    ];
    const offenders = Object.entries(resources(s))
      .filter(([, r]) => (r as { DeletionPolicy?: string }).DeletionPolicy === 'Retain')
      .flatMap(([id, r]) =>
        nameKeys
          .filter((k) => typeof r.Properties?.[k] === 'string')
          .map((k) => `${id}.${k}=${r.Properties?.[k]}`),
      );
    expect(offenders).toEqual([]);
    expect(propsOf(s, s.stack.storage.table).TableName).toBeUndefined();
  });
});

describe('7. approval email that reaches the inbox', () => {
  it('keeps an address identity for trials when no domain is configured, without DKIM outputs', () => {
    const identities = resourcesOf(s.template, 'AWS::SES::EmailIdentity');
    expect(identities.map(([, r]) => r.Properties?.EmailIdentity)).toEqual([config.notifications.sender]);
    expect(Object.keys(s.template.toJSON().Outputs ?? {}).filter((k) => /Dkim/i.test(k))).toEqual([]);
  });

  it('with senderDomain, verifies the domain with Easy DKIM and prints its three CNAME records', () => {
    const identities = resourcesOf(v.template, 'AWS::SES::EmailIdentity');
    expect(identities).toHaveLength(1);
    const [id, identity] = identities[0] ?? ['', { Type: '' }];
    expect(identity.Properties?.EmailIdentity).toBe('studio.example');
    expect(identity.Properties?.DkimAttributes).toEqual({ SigningEnabled: true });
    const outputs = v.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    const dkim = Object.entries(outputs).filter(([k]) => /^DkimRecord[123]$/.test(k));
    expect(dkim.map(([k]) => k).sort()).toEqual(['DkimRecord1', 'DkimRecord2', 'DkimRecord3']);
    for (const [key, o] of dkim) {
      const n = key.slice(-1);
      const text = JSON.stringify(o.Value);
      expect(text).toContain(`"${id}","DkimDNSTokenName${n}"`);
      expect(text).toContain(`"${id}","DkimDNSTokenValue${n}"`);
      expect(text).toContain('CNAME');
    }
    // Sending is authorised on the domain identity.
    const send = identityStatements(v.template).filter((a) =>
      actionsOf(a.statement).includes('ses:SendEmail'),
    );
    expect(send.length).toBeGreaterThan(0);
    for (const a of send) expect(JSON.stringify(a.statement.Resource)).toContain(':identity/studio.example"');
  });
});

describe('8. operations and cost', () => {
  it('names the Step Functions and HTTP API log groups under /aws/vendedlogs/', () => {
    const sm = resolve(s, propsOf(s, s.stack.lifecycle.logGroup).LogGroupName);
    expect(sm).toMatch(/^\{"Fn::Join":\["",\["\/aws\/vendedlogs\/states\//);
    const api = resolve(s, propsOf(s, s.stack.api.accessLogGroup).LogGroupName);
    expect(api).toMatch(/^\{"Fn::Join":\["",\["\/aws\/vendedlogs\/apigateway\//);
  });

  it('leaves the Spot bid unset, with price-capacity-optimized allocation', () => {
    const compute = propsOf(s, s.stack.training.computeEnvironment).ComputeResources as Record<
      string,
      unknown
    >;
    expect(compute.Type).toBe('SPOT');
    expect(compute.AllocationStrategy).toBe('SPOT_PRICE_CAPACITY_OPTIMIZED');
    expect(compute.BidPercentage).toBeUndefined();
  });

  it('logs HTTP API access with HTTP API context variables only (no REST-only fields that log "-")', () => {
    const stage = resourcesOf(s.template, 'AWS::ApiGatewayV2::Stage')[0]?.[1].Properties ?? {};
    const format = (stage.AccessLogSettings as { Format: string }).Format;
    const variables = [...format.matchAll(/\$context\.([A-Za-z.]+)/g)].map((m) => m[1] ?? '');
    expect(variables).toContain('requestId');
    expect(variables).toContain('routeKey');
    const HTTP_API = new Set([
      'requestId',
      'extendedRequestId',
      'requestTime',
      'requestTimeEpoch',
      'httpMethod',
      'routeKey',
      'path',
      'protocol',
      'status',
      'responseLength',
      'responseLatency',
      'integrationLatency',
      'integrationStatus',
      'integrationErrorMessage',
      'integration.error',
      'integration.status',
      'integration.latency',
      'integration.integrationStatus',
      'identity.sourceIp',
      'identity.userAgent',
      'domainName',
      'stage',
      'error.message',
      'error.responseType',
      'dataProcessed',
    ]);
    expect(variables.filter((x) => !HTTP_API.has(x))).toEqual([]);
    expect(() => JSON.parse(format)).not.toThrow();
  });

  it('sends S3 traffic through the free gateway endpoint and adds no interface endpoint by default', () => {
    const endpoints = resourcesOf(s.template, 'AWS::EC2::VPCEndpoint').map(([, r]) => r.Properties ?? {});
    expect(endpoints.map((e) => e.VpcEndpointType ?? 'Gateway')).toEqual(['Gateway']);
    expect(JSON.stringify(endpoints[0]?.ServiceName)).toContain('.s3');
  });

  it('with batch.vpcEndpoints, reaches ECR, ECS and CloudWatch Logs privately from the training subnets', () => {
    const endpoints = resourcesOf(v.template, 'AWS::EC2::VPCEndpoint')
      .map(([, r]) => r.Properties ?? {})
      .filter((e) => e.VpcEndpointType === 'Interface');
    // ServiceName is com.amazonaws.<region>.<service>, joined around the region's Ref.
    const services = endpoints.map((e) => {
      const parts = (e.ServiceName as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
      return String(parts[parts.length - 1]).replace(/^\./, '');
    });
    expect(services.sort()).toEqual(['ecr.api', 'ecr.dkr', 'ecs', 'ecs-agent', 'ecs-telemetry', 'logs']);
    const privateSubnets = v.stack.training.vpc.privateSubnets.map((sn) => idOf(v, sn)).sort();
    // Reachable on 443 from the training instances only, not from the whole VPC.
    const instancesSg = resourcesOf(v.template, 'AWS::EC2::SecurityGroup').find(([, r]) =>
      String(r.Properties?.GroupDescription).startsWith('mlcycle training instances'),
    )?.[0];
    const ingress = resourcesOf(v.template, 'AWS::EC2::SecurityGroupIngress').map(
      ([, r]) => r.Properties ?? {},
    );
    for (const e of endpoints) {
      const sg = refOf(list(e.SecurityGroupIds as unknown[])[0]);
      const rules = ingress.filter((r) => refOf(r.GroupId) === sg);
      expect(rules).toEqual([expect.objectContaining({ FromPort: 443, ToPort: 443, IpProtocol: 'tcp' })]);
      expect(refOf(rules[0]?.SourceSecurityGroupId)).toBe(instancesSg);
      const inline = resources(v)[sg]?.Properties?.SecurityGroupIngress;
      expect(inline).toBeUndefined();
    }
    for (const e of endpoints) {
      expect(e.PrivateDnsEnabled).toBe(true);
      expect(
        list(e.SubnetIds as unknown[])
          .map(refOf)
          .sort(),
      ).toEqual(privateSubnets);
    }
  });

  it('says in docs/deploy.md which Node.js runtime the functions use', () => {
    const fn = propsOf(s, s.stack.functions.get('gate'));
    const major = /^nodejs(\d+)\.x$/.exec(String(fn.Runtime))?.[1];
    const docs = readFileSync(fromRoot('docs/deploy.md'), 'utf8');
    const said = [...docs.matchAll(/Node\.js (\d+)/g)].map((m) => m[1]);
    expect(said.length).toBeGreaterThan(0);
    expect(new Set(said)).toEqual(new Set([major]));
  });
});

describe('issue 9: smaller holes in the same files', () => {
  it('lets training instances out on HTTPS only (ECR, ECS, S3, CloudWatch Logs), not all ports', () => {
    const sgs = resourcesOf(s.template, 'AWS::EC2::SecurityGroup').filter(([, r]) =>
      String(r.Properties?.GroupDescription).startsWith('mlcycle training instances'),
    );
    expect(sgs).toHaveLength(1);
    const p = sgs[0]?.[1].Properties ?? {};
    expect(p.SecurityGroupEgress).toEqual([
      {
        CidrIp: '0.0.0.0/0',
        Description: expect.stringMatching(/HTTPS/),
        FromPort: 443,
        IpProtocol: 'tcp',
        ToPort: 443,
      },
    ]);
    expect(p.SecurityGroupIngress).toBeUndefined();
    expect(String(p.GroupDescription)).toMatch(/HTTPS/);
  });

  it('caps the baseline and drift functions with reserved concurrency, and no other function', () => {
    const caps = config.monitoring.reservedConcurrency;
    if (caps === false) throw new Error('the sample config is expected to cap the monitoring functions');
    for (const [name, fn] of s.stack.functions.all()) {
      const reserved = propsOf(s, fn).ReservedConcurrentExecutions;
      if (name === 'baseline') expect(reserved).toBe(caps.baseline);
      else if (name === 'drift') expect(reserved).toBe(caps.drift);
      else expect(reserved, name).toBeUndefined();
    }
  });

  it('reserves nothing with `reservedConcurrency: false` (accounts with a Lambda quota of 10)', () => {
    for (const [name, fn] of v.stack.functions.all())
      expect(propsOf(v, fn).ReservedConcurrentExecutions, name).toBeUndefined();
  });
});

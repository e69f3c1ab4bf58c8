import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CfnElement } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/adapters/config-file.js';
import { ENV } from '../../lambdas/contracts/env.js';
import { HANDLERS, type HandlerContract, type HandlerName } from '../../lambdas/contracts/handlers.js';
import { DEPLOYED_CONFIG_PATH } from '../../lib/deployed-config.js';
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
 * Governance in the template: the policy every function applies is the stack's own config (a
 * layer), and each function may write only the table partitions its use case owns.
 */
let s: SynthesizedApp;
const config = parseConfig(defaultRawConfig());
const fnId = (name: HandlerName) =>
  s.stack.getLogicalId(s.stack.functions.get(name).node.defaultChild as CfnElement);
const roleId = (name: HandlerName) =>
  s.stack.getLogicalId(s.stack.functions.role(name).node.defaultChild as CfnElement);

beforeAll(() => {
  s = synthApp(defaultRawConfig(), { bundle: false });
});
afterAll(() => s?.dispose());

describe('the deployed config', () => {
  it('is one layer holding this config; every function that applies a policy has it and points at it', () => {
    const layers = resourcesOf(s.template, 'AWS::Lambda::LayerVersion');
    expect(layers).toHaveLength(1);
    const [layerId] = layers[0] as [string, CfnResource];
    const readers = (Object.entries(HANDLERS) as [HandlerName, HandlerContract][]).filter(([, c]) =>
      (c.env as readonly string[]).includes(ENV.configFile),
    );
    expect(readers.map(([n]) => n)).toEqual(
      expect.arrayContaining([
        'admit',
        'gate',
        'requestApproval',
        'deploy',
        'startHttp',
        'registryHttp',
        'decisionHttp',
      ]),
    );
    const resources = s.template.toJSON().Resources as Record<string, CfnResource>;
    for (const [name] of readers) {
      const p = resources[fnId(name)]?.Properties ?? {};
      expect(list(p.Layers as unknown[]).map(refOf), name).toContain(layerId);
      const env = (p.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(env[ENV.configFile], name).toBe(DEPLOYED_CONFIG_PATH);
    }
  });

  it("the layer's asset is exactly the validated config, at the path the functions read", () => {
    const file = join(s.outdir, `asset.${assetHash()}`, 'mlcycle', 'config.json');
    expect(existsSync(file), file).toBe(true);
    expect(parseConfig(JSON.parse(readFileSync(file, 'utf8')))).toEqual(config);
    expect(DEPLOYED_CONFIG_PATH).toBe('/opt/mlcycle/config.json');
  });
});

/** The asset hash of the config layer (its S3 key in the template is `<hash>.zip`). */
function assetHash(): string {
  const [, layer] = resourcesOf(s.template, 'AWS::Lambda::LayerVersion')[0] as [string, CfnResource];
  const content = layer.Properties?.Content as { S3Key: unknown } | undefined;
  const key = JSON.stringify(content?.S3Key);
  const hash = /([0-9a-f]{64})\.zip/.exec(key)?.[1];
  if (!hash) throw new Error(`no asset hash in ${key}`);
  return hash;
}

describe('table writes', () => {
  const WRITE = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];

  /** The partition patterns a role may write, or 'ANY' if a write statement has no LeadingKeys condition. */
  function writablePartitions(name: HandlerName): string[] | 'ANY' | 'NONE' {
    const found = identityStatements(s.template).filter(
      (a) => a.roles.includes(roleId(name)) && actionsOf(a.statement).some((x) => WRITE.includes(x)),
    );
    if (!found.length) return 'NONE';
    const keys: string[] = [];
    for (const a of found) {
      const c = (a.statement.Condition ?? {}) as Record<string, Record<string, unknown>>;
      const lk = c['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'];
      if (!lk) return 'ANY';
      keys.push(...list(lk as string[]));
    }
    return [...new Set(keys)].sort();
  }

  const models = Object.keys(config.models).map((m) => `MODEL#${m}`);
  const expected: Partial<Record<HandlerName, string[] | 'NONE'>> = {
    admit: 'NONE',
    loadCandidate: 'NONE',
    prepareSmoke: 'NONE',
    batchJobEnded: 'NONE',
    evaluate: 'NONE',
    gate: 'NONE',
    manifestHttp: 'NONE',
    statusHttp: 'NONE',
    prepareRun: models,
    checkTrial: models,
    watchTrial: models,
    pickBest: models,
    register: models,
    deploy: models,
    cleanup: models,
    registryHttp: ['NOTICE#*', ...models],
    rolloutHttp: ['NOTICE#*', ...models],
    monitoringHttp: models,
    runControlHttp: models,
    requestApproval: ['APPROVAL#*', 'APPROVALFOR#*'],
    approvalReminders: ['APPROVAL#*'],
    approvalHttp: ['APPROVAL#*', ...models],
    decisionHttp: ['APPROVAL#*', ...models],
    recordFailure: ['APPROVAL#*', 'EXECUTION#*', ...models],
    executionEnded: ['APPROVAL#*', 'EXECUTION#*', ...models],
    executionSucceeded: ['NOTICE#*'],
    approvalReconciler: ['APPROVAL#*', 'EXECUTION#*', ...models],
    startHttp: ['START#*'],
    scheduledRetrain: ['START#*'],
    baseline: ['S3EVENT#*', ...models],
    drift: ['S3EVENT#*', ...models],
  };

  it.each(Object.keys(HANDLERS) as HandlerName[])(
    '%s writes only the partitions its use case owns (dynamodb:LeadingKeys)',
    (name) => {
      const got = writablePartitions(name);
      expect(got, name).not.toBe('ANY');
      const want = expected[name];
      if (want === undefined) throw new Error(`no expectation for ${name}: add one`);
      expect(got).toEqual(want === 'NONE' ? 'NONE' : [...want].sort());
    },
  );

  it('nothing that starts executions may write the registry, and nothing else may write start records', () => {
    for (const name of Object.keys(HANDLERS) as HandlerName[]) {
      const got = writablePartitions(name);
      const writesStarts = Array.isArray(got) && got.some((p) => p.startsWith('START#'));
      expect(writesStarts, name).toBe(name === 'startHttp' || name === 'scheduledRetrain');
    }
  });
});

describe('baseline decisions (monitoring-http)', () => {
  const statementsOf = (name: HandlerName) =>
    identityStatements(s.template).filter((a) => a.roles.includes(roleId(name)));

  it('are IAM-authorised routes to their own function, which may touch only the model partitions and profiles', () => {
    const routes = resourcesOf(s.template, 'AWS::ApiGatewayV2::Route')
      .map(([, r]) => r.Properties ?? {})
      .filter((p) => String(p.RouteKey).includes('/drift/'));
    expect(routes.map((p) => [p.RouteKey, p.AuthorizationType]).sort()).toEqual(
      [
        ['GET /drift/{model}/baselines', 'AWS_IAM'],
        ['POST /drift/{model}/baselines/discard', 'AWS_IAM'],
        ['POST /drift/{model}/baselines/use', 'AWS_IAM'],
        ['POST /drift/{model}/batches/discard', 'AWS_IAM'],
      ].sort(),
    );
    const statements = statementsOf('monitoringHttp').map((a) => a.statement);
    const actions = statements.flatMap(actionsOf);
    for (const forbidden of [
      'states:StartExecution',
      'states:StopExecution',
      'states:SendTaskSuccess',
      's3:DeleteObject',
      'sns:Publish',
    ])
      expect(actions).not.toContain(forbidden);
    const objectResources = statements
      .filter((st) => actionsOf(st).some((a) => a === 's3:GetObject' || a === 's3:PutObject'))
      .flatMap((st) => list(st.Resource as unknown[]))
      .map((r) => JSON.stringify(r));
    expect(objectResources.length).toBeGreaterThan(0);
    for (const r of objectResources) expect(r).toMatch(/\/reports\/[a-z0-9-]+\/profiles\/\*"/);
    const models = Object.keys(config.models);
    for (const m of models) expect(objectResources.join(' ')).toContain(`/reports/${m}/profiles/*`);
  });
});

describe('the status endpoint (status-http)', () => {
  it('is an IAM-authorised route to its own function, which only reads the table and each model’s drift summary', () => {
    const routes = resourcesOf(s.template, 'AWS::ApiGatewayV2::Route')
      .map(([, r]) => r.Properties ?? {})
      .filter((p) => String(p.RouteKey).includes('/status/'));
    expect(routes.map((p) => [p.RouteKey, p.AuthorizationType])).toEqual([
      ['GET /status/{model}', 'AWS_IAM'],
    ]);
    const statements = identityStatements(s.template)
      .filter((a) => a.roles.includes(roleId('statusHttp')))
      .map((a) => a.statement);
    const actions = [...new Set(statements.flatMap(actionsOf))].sort();
    const allowed = [
      'dynamodb:BatchGetItem',
      'dynamodb:ConditionCheckItem',
      'dynamodb:DescribeTable',
      'dynamodb:GetItem',
      'dynamodb:Query',
      's3:GetObject',
      's3:ListBucket',
    ];
    for (const a of actions.filter((x) => !/^(logs|xray):/.test(x))) expect(allowed, a).toContain(a);
    const objectResources = statements
      .filter((st) => actionsOf(st).includes('s3:GetObject'))
      .flatMap((st) => list(st.Resource as unknown[]))
      .map((r) => JSON.stringify(r));
    expect(objectResources.sort()).toEqual(
      Object.keys(config.models)
        .map((m) => expect.stringContaining(`/reports/${m}/drift/latest.json*`))
        .sort(),
    );
    expect(objectResources).toHaveLength(Object.keys(config.models).length);
  });
});

describe('operator access (mlcycle --aws)', () => {
  const statementsOf = () => {
    const policies = resourcesOf(s.template, 'AWS::IAM::ManagedPolicy').filter(
      ([, r]) => r.Properties?.ManagedPolicyName === `${config.project}-operator`,
    );
    expect(policies).toHaveLength(1);
    const doc = policies[0]?.[1].Properties?.PolicyDocument as { Statement: Record<string, unknown>[] };
    return doc.Statement;
  };

  it('may call exactly the IAM-authorised control routes, on this API', () => {
    const invoke = statementsOf().filter((st) => list(st.Action as string[]).includes('execute-api:Invoke'));
    const routes = invoke.flatMap((st) => list(st.Resource as unknown[])).map((r) => JSON.stringify(r));
    const apiId = s.stack.getLogicalId(s.stack.api.api.node.defaultChild as CfnElement);
    for (const r of routes) expect(r).toContain(apiId);
    const paths = routes.map((r) => /\$default\/([A-Z]+\/[^"]*)"/.exec(r)?.[1]).sort();
    expect(paths).toEqual(
      [
        'GET/whoami',
        'GET/status/*',
        'GET/rollouts/*/*',
        'POST/rollouts/*/*/ramp',
        'POST/rollouts/*/*/abort',
        'GET/drift/*/baselines',
        'POST/drift/*/baselines/use',
        'POST/drift/*/baselines/discard',
        'POST/drift/*/batches/discard',
        'POST/approvals/*/decisions',
        'POST/promotions',
        'POST/rollbacks',
        'POST/runs',
        'POST/runs/*/*/cancel',
        'POST/sweeps/*/stop',
        'POST/versions',
      ].sort(),
    );
  });

  it('cannot start executions, complete approvals, or write the registry or what serves', () => {
    const actions = statementsOf().flatMap((st) => list(st.Action as string[]));
    for (const forbidden of [
      'states:StartExecution',
      'states:SendTaskSuccess',
      'states:SendTaskFailure',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:BatchWriteItem',
      'lambda:InvokeFunction',
    ]) {
      expect(actions).not.toContain(forbidden);
    }
    const puts = statementsOf().filter((st) => list(st.Action as string[]).includes('s3:PutObject'));
    const prefixes = puts
      .flatMap((st) => list(st.Resource as unknown[]))
      .map((r) => /\/([a-z]+\/(?:\*\/[a-z]+\/)?)\*(?:\.html)?"/.exec(JSON.stringify(r))?.[0])
      .sort();
    // Uploads to train on and to monitor, and the run, comparison and sweep pages it renders:
    // never runs/, deployments/, downloads/ or the rest of reports/ (rollout pages included).
    expect(prefixes).toEqual([
      '/datasets/*"',
      '/monitoring/*"',
      '/reports/*/comparisons/*.html"',
      '/reports/*/runs/*.html"',
      '/reports/*/sweeps/*.html"',
    ]);
  });

  it('may read the streams of the train and predict jobs’ log groups (runs logs), and stop no job', () => {
    const statements = statementsOf();
    const reads = statements.filter((st) => list(st.Action as string[]).includes('logs:GetLogEvents'));
    expect(reads).toHaveLength(1);
    const resources = list(reads[0]?.Resource as unknown[]).map((r) => JSON.stringify(r));
    const groups = resourcesOf(s.template, 'AWS::Logs::LogGroup')
      .map(([id]) => id)
      .filter((id) => /TrainLogs|PredictLogs/.test(id));
    expect(groups).toHaveLength(2);
    expect(resources).toHaveLength(2);
    for (const id of groups) expect(resources.filter((r) => r.includes(id))).toHaveLength(1);
    for (const r of resources) expect(r).toContain(':log-stream:*');
    const actions = statements.flatMap((st) => list(st.Action as string[]));
    expect(actions).toEqual(expect.arrayContaining(['batch:ListJobs', 'batch:DescribeJobs']));
    for (const forbidden of ['batch:TerminateJob', 'batch:CancelJob', 'batch:SubmitJob', 'logs:*']) {
      expect(actions).not.toContain(forbidden);
    }
  });
});

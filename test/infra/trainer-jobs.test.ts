import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOB_VOLUME, TRAIN_JOB_CONTAINERS } from '../../lambdas/contracts/stager.js';
import { fromRoot } from '../../lib/paths.js';
import {
  actionsOf,
  defaultRawConfig,
  identityStatements,
  list,
  logicalId,
  resourcesOf,
  type SynthesizedApp,
  synthApp,
} from './support.js';

/**
 * The platform side of the trainer contract on AWS Batch: a model whose `training.image` folder
 * holds a trainer.yaml gets a train job (stager → unmodified user image → stager, checkpoint
 * sidecar) and a CPU predict job, with roles that never reach the holdout labels.
 */
function configWithContractTrainer(training: Record<string, unknown> = {}): Record<string, unknown> {
  const raw = defaultRawConfig();
  const models = raw.models as Record<string, unknown>;
  models.ltv = {
    description: 'Predicted lifetime value (regression) from the sklearn-ltv trainer.',
    target: 'ltv',
    exclude: ['player_id'],
    training: {
      image: 'containers/sklearn-ltv',
      hyperparameters: {},
      resources: { gpus: 1, vcpus: 4, memoryMiB: 15000 },
      instanceTypes: ['g5.xlarge'],
      spot: true,
      spotAttempts: 4,
      timeoutMinutes: 90,
      ...training,
    },
    evaluation: { holdoutFraction: 0.2, primaryMetric: 'auc' },
  };
  return raw;
}

/** An IAM resource as a string, the bucket's ARN written `<bucket>`. */
function flat(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as { 'Fn::Join'?: [string, unknown[]]; 'Fn::GetAtt'?: [string, string]; Ref?: string };
  if (v['Fn::Join']) return v['Fn::Join'][1].map(flat).join(v['Fn::Join'][0]);
  if (v['Fn::GetAtt']) return `<${v['Fn::GetAtt'][0]}.${v['Fn::GetAtt'][1]}>`;
  if (v.Ref) return `<${v.Ref}>`;
  return JSON.stringify(value);
}

interface Container {
  Name: string;
  Image: unknown;
  Command?: string[];
  Essential?: boolean;
  DependsOn?: { ContainerName: string; Condition: string }[];
  Environment?: { Name: string; Value: string }[];
  ResourceRequirements?: { Type: string; Value: string }[];
}

let s: SynthesizedApp;
const defs = () =>
  Object.fromEntries(
    resourcesOf(s.template, 'AWS::Batch::JobDefinition').map(([, r]) => [
      r.Properties?.JobDefinitionName,
      r.Properties ?? {},
    ]),
  );
const containersOf = (props: Record<string, unknown>) =>
  (props.EcsProperties as { TaskProperties: { Containers: Container[] }[] }).TaskProperties[0]?.Containers ??
  [];
const roleOf = (props: Record<string, unknown>) =>
  flat(
    (props.EcsProperties as { TaskProperties: { TaskRoleArn: unknown }[] }).TaskProperties[0]?.TaskRoleArn,
  ).replace(/^<(.*)\.Arn>$/, '$1');

beforeAll(() => {
  s = synthApp(configWithContractTrainer(), { bundle: false });
});
afterAll(() => s?.dispose());

describe('trainer-contract jobs on AWS Batch', () => {
  it('runs the unmodified user image between the stager containers, the GPU on the trainer only', () => {
    const train = defs()['mlcycle-trainer-ltv'] as Record<string, unknown>;
    expect(train).toBeDefined();
    const containers = containersOf(train);
    const c = TRAIN_JOB_CONTAINERS;
    expect(containers.map((x) => x.Name)).toEqual([c.stageIn, c.checkpointSync, c.trainer, c.stageOut]);
    const byName = Object.fromEntries(containers.map((x) => [x.Name, x]));
    const trainer = byName[c.trainer] as Container;
    const manifest = readFileSync('containers/sklearn-ltv/trainer.yaml', 'utf8');
    expect(manifest).toContain('train: [python3, train.py]');
    expect(trainer.Command).toEqual(['python3', 'train.py']);
    expect(trainer.DependsOn).toEqual([{ ContainerName: c.stageIn, Condition: 'SUCCESS' }]);
    expect(byName[c.stageOut]?.DependsOn).toEqual([{ ContainerName: c.trainer, Condition: 'SUCCESS' }]);
    expect(containers.filter((x) => x.Essential).map((x) => x.Name)).toEqual([c.stageOut]);
    expect(byName[c.stageIn]?.Command).toEqual(['stage-in-train']);
    expect(byName[c.checkpointSync]?.Command).toEqual(['checkpoint-sync']);
    expect(byName[c.stageOut]?.Command).toEqual(['stage-out-train']);
    // The user's image is not the stager's.
    expect(flat(trainer.Image)).not.toBe(flat(byName[c.stageIn]?.Image));
    expect(trainer.ResourceRequirements).toEqual([
      { Type: 'GPU', Value: '1' },
      { Type: 'VCPU', Value: '4' },
      { Type: 'MEMORY', Value: String(15000 - 1024) },
    ]);
    for (const x of containers.filter((x) => x.Name !== c.trainer)) {
      expect(
        x.ResourceRequirements?.some((r) => r.Type === 'GPU'),
        x.Name,
      ).toBe(false);
    }
    const env = Object.fromEntries((trainer.Environment ?? []).map((e) => [e.Name, e.Value]));
    expect(env).toMatchObject({
      MLCYCLE_CONTRACT: '1',
      MLCYCLE_MODEL: 'ltv',
      MLCYCLE_TRAIN: JOB_VOLUME.train,
      MLCYCLE_OUTPUT_DIR: JOB_VOLUME.outputDir,
      MLCYCLE_CHECKPOINT_DIR: JOB_VOLUME.checkpointDir,
      MLCYCLE_TARGET: 'ltv',
    });
  });

  it('the state machine overrides only containers the job definitions have, with per-container environment', () => {
    const asl = JSON.parse(readFileSync('state-machines/lifecycle.asl.json', 'utf8')) as {
      States: Record<string, { Resource?: string; Parameters?: Record<string, unknown> }>;
    };
    const jobs = {
      Train: 'mlcycle-trainer-ltv',
      Predict: 'mlcycle-predict-ltv',
      SmokePredict: 'mlcycle-predict-ltv',
    };
    for (const [state, definition] of Object.entries(jobs)) {
      const params = asl.States[state]?.Parameters ?? {};
      // Batch refuses ContainerOverrides for ecsProperties jobs: only EcsPropertiesOverride.
      expect(params.ContainerOverrides, state).toBeUndefined();
      const overridden =
        (
          params.EcsPropertiesOverride as {
            TaskProperties: { Containers: { Name: string; Environment: { Name: string }[] }[] }[];
          }
        ).TaskProperties[0]?.Containers ?? [];
      const defined = containersOf(defs()[definition] as Record<string, unknown>);
      for (const o of overridden) {
        const container = defined.find((c) => c.Name === o.Name);
        expect(container, `${state} overrides ${o.Name}`).toBeDefined();
        // The stager reads MLCYCLE_RUN_URI; the trainer gets only what changes per run.
        for (const e of o.Environment) expect(e.Name, `${state} ${o.Name}`).toMatch(/^MLCYCLE_[A-Z0-9_]+$/);
      }
      expect(overridden.map((o) => o.Name)).toContain('stage-in');
    }
  });

  it('retries a Spot reclaim (Host EC2*) spotAttempts times and nothing else', () => {
    for (const name of ['mlcycle-trainer-ltv', 'mlcycle-predict-ltv']) {
      expect((defs()[name] as Record<string, unknown>).RetryStrategy, name).toEqual({
        Attempts: 4,
        EvaluateOnExit: [
          { OnStatusReason: 'Host EC2*', Action: 'RETRY' },
          { OnReason: '*', Action: 'EXIT' },
        ],
      });
    }
    expect((defs()['mlcycle-trainer-ltv'] as Record<string, unknown>).Timeout).toEqual({
      AttemptDurationSeconds: 90 * 60,
    });
  });

  it('has an evaluation job of the same image on CPU, running the predict argv', () => {
    const predict = defs()['mlcycle-predict-ltv'] as Record<string, unknown>;
    const train = defs()['mlcycle-trainer-ltv'] as Record<string, unknown>;
    const containers = containersOf(predict);
    expect(containers.map((x) => x.Name)).toEqual(['stage-in', 'predictor', 'stage-out']);
    const predictor = containers[1] as Container;
    expect(predictor.Command).toEqual(['python3', 'predict.py']);
    expect(flat(predictor.Image)).toBe(flat(containersOf(train).find((x) => x.Name === 'trainer')?.Image));
    expect(predictor.ResourceRequirements?.map((r) => r.Type)).toEqual(['VCPU', 'MEMORY']);
    expect(containers.map((x) => x.Command?.[0])).toEqual([
      'stage-in-predict',
      'python3',
      'stage-out-predict',
    ]);
    expect(s.stack.training.predictJobDefinitionPrefix).toBe('mlcycle-predict-');
    // The state machine may submit it.
    const submit = identityStatements(s.template).filter((x) =>
      actionsOf(x.statement).includes('batch:SubmitJob'),
    );
    expect(submit.flatMap((x) => list(x.statement.Resource).map(flat)).join(' ')).toContain(
      'job-definition/mlcycle-predict-ltv',
    );
  });

  it('gives each job role only its keys, and no job the holdout labels', () => {
    const statements = identityStatements(s.template);
    const allowed = (role: string) =>
      statements
        .filter((x) => x.roles.includes(role) && x.statement.Effect !== 'Deny')
        .flatMap((x) =>
          actionsOf(x.statement).flatMap((a) => list(x.statement.Resource).map((r) => `${a} ${flat(r)}`)),
        )
        .filter((line) => line.startsWith('s3:'))
        .map((line) => line.replace(/<StorageArtifacts[^>]*\.Arn>/, '<bucket>'))
        .sort();
    const trainRole = roleOf(defs()['mlcycle-trainer-ltv'] as Record<string, unknown>);
    const predictRole = roleOf(defs()['mlcycle-predict-ltv'] as Record<string, unknown>);
    expect(allowed(trainRole)).toEqual(
      [
        's3:GetObject <bucket>/runs/ltv/*/input/*',
        's3:GetObject <bucket>/runs/ltv/*/checkpoints/*',
        's3:PutObject <bucket>/runs/ltv/*/output/*',
        's3:PutObject <bucket>/runs/ltv/*/model.tar.gz',
        's3:PutObject <bucket>/runs/ltv/*/checkpoints/*',
        's3:AbortMultipartUpload <bucket>/runs/ltv/*/output/*',
        's3:AbortMultipartUpload <bucket>/runs/ltv/*/model.tar.gz',
        's3:AbortMultipartUpload <bucket>/runs/ltv/*/checkpoints/*',
        's3:DeleteObject <bucket>/runs/ltv/*/output/*',
        's3:DeleteObject <bucket>/runs/ltv/*/checkpoints/*',
        's3:ListBucket <bucket>',
      ].sort(),
    );
    expect(allowed(predictRole)).toEqual(
      [
        's3:GetObject <bucket>/runs/ltv/*/input/holdout-features.csv',
        's3:GetObject <bucket>/runs/ltv/*/model.tar.gz',
        's3:GetObject <bucket>/runs/ltv/*/smoke/*/features.csv',
        's3:PutObject <bucket>/runs/ltv/*/evaluation/predictions.jsonl',
        's3:AbortMultipartUpload <bucket>/runs/ltv/*/evaluation/predictions.jsonl',
        's3:PutObject <bucket>/runs/ltv/*/smoke/*/predictions.jsonl',
        's3:AbortMultipartUpload <bucket>/runs/ltv/*/smoke/*/predictions.jsonl',
      ].sort(),
    );
    for (const role of [trainRole, predictRole]) {
      // No allowed resource pattern matches the labels' key (IAM's * matches across /).
      const labels = 'runs/ltv/20260101-abc/evaluation/holdout-labels.csv';
      for (const line of allowed(role).filter((l) => /^s3:Get/.test(l))) {
        const pattern = line.split(' ')[1]?.replace('<bucket>/', '') ?? '';
        const re = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*')}$`);
        expect(re.test(labels), `${role}: ${line}`).toBe(false);
      }
      const denies = statements.filter((x) => x.roles.includes(role) && x.statement.Effect === 'Deny');
      expect(denies.flatMap((x) => list(x.statement.Resource).map(flat))).toEqual([
        expect.stringMatching(/\/runs\/ltv\/\*\/evaluation\/holdout-labels\.csv$/),
      ]);
    }
    const listStatement = statements.find(
      (x) => x.roles.includes(trainRole) && actionsOf(x.statement).includes('s3:ListBucket'),
    );
    expect(listStatement?.statement.Condition).toEqual({ StringLike: { 's3:prefix': ['runs/ltv/*'] } });
  });

  it('writes each job kind to its own log group', () => {
    const groupOf = (name: string) =>
      containersOf(defs()[name] as Record<string, unknown>).map((x) =>
        flat(
          (x as unknown as { LogConfiguration: { Options: Record<string, unknown> } }).LogConfiguration
            .Options['awslogs-group'],
        ),
      );
    const train = new Set(groupOf('mlcycle-trainer-ltv'));
    const predict = new Set(groupOf('mlcycle-predict-ltv'));
    expect(train.size).toBe(1);
    expect(predict.size).toBe(1);
    expect([...train][0]).not.toBe([...predict][0]);
    expect(logicalId(s.stack, s.stack.training.trainerJobs?.trainLogGroup.node.defaultChild)).toBe(
      [...train][0]?.replace(/^<(.*)>$/, '$1'),
    );
  });

  it('passes cdk-nag with the contract trainer (acknowledgements justified)', () => {
    const result = new AwsSolutionsChecks().validateScope(s.app);
    expect(
      result.violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath)}`),
    ).toEqual([]);
  });

  it('asks for no GPU when the model gives none, and says which trainer folder has no Dockerfile', () => {
    const cpu = synthApp(configWithContractTrainer({ resources: { gpus: 0, vcpus: 2, memoryMiB: 4096 } }), {
      bundle: false,
    });
    try {
      const train = resourcesOf(cpu.template, 'AWS::Batch::JobDefinition').find(
        ([, r]) => r.Properties?.JobDefinitionName === 'mlcycle-trainer-ltv',
      )?.[1];
      const trainer = containersOf(train?.Properties ?? {}).find((x) => x.Name === 'trainer');
      expect(trainer?.ResourceRequirements).toEqual([
        { Type: 'VCPU', Value: '2' },
        { Type: 'MEMORY', Value: String(4096 - 1024) },
      ]);
      expect(trainer?.Environment).toContainEqual({ Name: 'MLCYCLE_USE_GPU', Value: '0' });
    } finally {
      cpu.dispose();
    }
    // A trainer folder (inside the repository, as `training.image` must be) without a Dockerfile.
    mkdirSync(fromRoot('test-output'), { recursive: true });
    // Trainer names are lower-case: a fixed name, not mkdtemp's mixed-case suffix.
    const name = `nodocker-${process.pid}`;
    const folder = join(fromRoot('test-output'), name);
    mkdirSync(folder, { recursive: true });
    try {
      writeFileSync(
        join(folder, 'trainer.yaml'),
        readFileSync(fromRoot('test/fixtures/trainers/minimal/trainer.yaml'), 'utf8').replace(
          'name: minimal',
          `name: ${name}`,
        ),
      );
      expect(() =>
        synthApp(configWithContractTrainer({ image: `test-output/${name}` }), { bundle: false }),
      ).toThrow(`models.ltv.training.image: test-output/${name} has a trainer.yaml but no Dockerfile`);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

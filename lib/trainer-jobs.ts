import { existsSync } from 'node:fs';
import { ArnFormat, Aws, IgnoreMode, Stack } from 'aws-cdk-lib';
import * as batch from 'aws-cdk-lib/aws-batch';
import { DockerImageAsset, Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { type ModelConfig, predictAttemptSeconds } from '../lambdas/contracts/config-schema.js';
import { predictJobDefinitionPrefix } from '../lambdas/contracts/names.js';
import { RUN_INPUTS, runsPrefix, SMOKE_FILES } from '../lambdas/contracts/s3-layout.js';
import {
  DEFAULT_CHECKPOINT_SYNC_SECONDS,
  JOB_VOLUME,
  PREDICT_JOB_CONTAINERS,
  STAGER_ENV,
  STAGER_MEMORY_MIB,
  type StagerMode,
  TRAIN_JOB_CONTAINERS,
} from '../lambdas/contracts/stager.js';
import { predictModeEnv, type TaskType, type TrainerManifest } from '../lambdas/contracts/trainer.js';
import { addScopedStatement } from './nag.js';
import { fromRoot, REPO_ROOT } from './paths.js';
import type { Storage } from './storage.js';

/**
 * Batch job definitions for trainers under the trainer contract (a folder with trainer.yaml):
 * the user's image runs UNMODIFIED between two runs of the platform's stager image, in one ECS
 * task on a shared volume (docs/deploy.md, "How the stager and the trainer share a task"):
 *
 *   stage-in (stager, exits 0) → trainer (user image, trainer.yaml's argv) → stage-out (stager)
 *   checkpoint-sync (stager) beside them, from the start of the task to its end
 *
 * ECS allows COMPLETE/SUCCESS dependencies only on non-essential containers, so stage-in and the
 * trainer are non-essential and stage-out is the essential one: the task (and the job) succeeds
 * only when stage-out exits 0, which it can start only after the trainer exited 0.
 */

export interface ContractTrainer {
  readonly model: string;
  readonly config: ModelConfig;
  readonly manifest: TrainerManifest;
  /** The trainer folder (config `training.image`), relative to the repository root. */
  readonly folder: string;
}

export interface TrainerJobsProps {
  readonly project: string;
  readonly trainers: readonly ContractTrainer[];
  readonly storage: Storage;
  /** Builds the job definition name of a model's train job. */
  readonly trainJobName: (model: string) => string;
  readonly codeVersion: string;
  readonly retention: logs.RetentionDays;
  /** The stager image (repository-root context), shared with nothing else. */
  readonly stagerContextExcludes: string[];
  /**
   * Build-context exclusions for a trainer whose Dockerfile is built from the repository root
   * (it has a `Dockerfile.dockerignore` beside it, as the reference trainer does: its image shares
   * lambdas/domain/ml with the Lambdas). Other trainer folders are their own build context.
   */
  readonly rootContextExcludes: (folder: string) => string[];
}

/** The model's task type; read defensively until config-model.ts has `task` (default binary). */
export function taskOf(config: ModelConfig): TaskType {
  return ((config as { task?: TaskType }).task ?? 'binary') as TaskType;
}

const env = (vars: Record<string, string>) => Object.entries(vars).map(([name, value]) => ({ name, value }));

export class TrainerJobs extends Construct {
  readonly predictJobDefinitionPrefix: string;
  readonly trainDefinitions: Record<string, batch.CfnJobDefinition> = {};
  readonly predictDefinitions: Record<string, batch.CfnJobDefinition> = {};
  readonly trainRoles: Record<string, iam.Role> = {};
  readonly predictRoles: Record<string, iam.Role> = {};
  readonly trainLogGroup: logs.LogGroup;
  readonly predictLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: TrainerJobsProps) {
    super(scope, id);
    this.predictJobDefinitionPrefix = predictJobDefinitionPrefix(props.project);
    this.trainLogGroup = new logs.LogGroup(this, 'TrainLogs', { retention: props.retention });
    this.predictLogGroup = new logs.LogGroup(this, 'PredictLogs', { retention: props.retention });

    const stager = new DockerImageAsset(this, 'StagerImage', {
      directory: REPO_ROOT,
      file: 'containers/stager/Dockerfile',
      platform: Platform.LINUX_AMD64,
      exclude: props.stagerContextExcludes,
      ignoreMode: IgnoreMode.DOCKER,
    });
    const executionRole = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'mlcycle trainer jobs: pulls the stager and trainer images, writes the job logs',
    });
    stager.repository.grantPull(executionRole);
    this.trainLogGroup.grantWrite(executionRole);
    this.predictLogGroup.grantWrite(executionRole);
    addScopedStatement(
      executionRole,
      new iam.PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }),
      'The execution role calls ecr:GetAuthorizationToken to pull the images; that action supports no resource-level permissions.',
    );

    for (const t of props.trainers) {
      const dockerfile = fromRoot(`${t.folder}/Dockerfile`);
      if (!existsSync(dockerfile)) {
        throw new Error(
          `models.${t.model}.training.image: ${t.folder} has a trainer.yaml but no Dockerfile; AWS Batch runs trainers as images (docs/trainer-contract.md)`,
        );
      }
      // The trainer folder is the build context (the user's image, as they build it themselves),
      // unless its Dockerfile says it is built from the repository root.
      const image = existsSync(`${dockerfile}.dockerignore`)
        ? new DockerImageAsset(this, `${t.model}Image`, {
            directory: REPO_ROOT,
            file: `${t.folder}/Dockerfile`,
            platform: Platform.LINUX_AMD64,
            exclude: props.rootContextExcludes(t.folder),
            ignoreMode: IgnoreMode.DOCKER,
          })
        : new DockerImageAsset(this, `${t.model}Image`, {
            directory: fromRoot(t.folder),
            platform: Platform.LINUX_AMD64,
          });
      image.repository.grantPull(executionRole);
      this.trainRoles[t.model] = this.trainRole(t.model, props.storage);
      this.predictRoles[t.model] = this.predictRole(t.model, props.storage);
      const common = { bucket: props.storage.bucket.bucketName, stagerUri: stager.imageUri, executionRole };
      this.trainDefinitions[t.model] = this.trainDefinition(t, props, image.imageUri, common);
      this.predictDefinitions[t.model] = this.predictDefinition(t, image.imageUri, common);
    }
  }

  private logConfig(group: logs.LogGroup, model: string): batch.CfnJobDefinition.LogConfigurationProperty {
    return {
      logDriver: 'awslogs',
      options: {
        'awslogs-group': group.logGroupName,
        'awslogs-region': Aws.REGION,
        'awslogs-stream-prefix': model,
      },
    };
  }

  private stagerContainer(
    name: string,
    mode: StagerMode,
    image: string,
    extra: {
      essential: boolean;
      dependsOn?: { containerName: string; condition: string }[];
      log: batch.CfnJobDefinition.LogConfigurationProperty;
    },
  ): batch.CfnJobDefinition.TaskContainerPropertiesProperty {
    return {
      name,
      image,
      command: [mode],
      essential: extra.essential,
      ...(extra.dependsOn ? { dependsOn: extra.dependsOn } : {}),
      environment: env({
        AWS_REGION: Aws.REGION,
        [STAGER_ENV.workDir]: JOB_VOLUME.mountPath,
        [STAGER_ENV.checkpointSyncSeconds]: String(DEFAULT_CHECKPOINT_SYNC_SECONDS),
      }),
      // Memory only: the stager shares the CPU the trainer leaves idle.
      resourceRequirements: [{ type: 'MEMORY', value: String(Math.floor(STAGER_MEMORY_MIB / 4)) }],
      mountPoints: [{ sourceVolume: JOB_VOLUME.name, containerPath: JOB_VOLUME.mountPath, readOnly: false }],
      logConfiguration: extra.log,
    };
  }

  private resources(config: ModelConfig, gpu: boolean) {
    const r = config.training.resources;
    const memory = r.memoryMiB - STAGER_MEMORY_MIB;
    if (memory < 512) {
      throw new Error(
        `training.resources.memoryMiB ${r.memoryMiB} leaves ${memory} MiB for the trainer after the stager's ${STAGER_MEMORY_MIB}: give at least ${STAGER_MEMORY_MIB + 512}`,
      );
    }
    return [
      ...(gpu && r.gpus > 0 ? [{ type: 'GPU', value: String(r.gpus) }] : []),
      { type: 'VCPU', value: String(r.vcpus) },
      { type: 'MEMORY', value: String(memory) },
    ];
  }

  private trainDefinition(
    t: ContractTrainer,
    props: TrainerJobsProps,
    imageUri: string,
    common: { bucket: string; stagerUri: string; executionRole: iam.Role },
  ): batch.CfnJobDefinition {
    const c = TRAIN_JOB_CONTAINERS;
    const log = this.logConfig(this.trainLogGroup, t.model);
    const training = t.config.training;
    const useGpu = training.resources.gpus > 0 && t.manifest.gpu;
    const trainer: batch.CfnJobDefinition.TaskContainerPropertiesProperty = {
      name: c.trainer,
      image: imageUri,
      // trainer.yaml's train argv; no entryPoint override, so the image's WORKDIR and user apply.
      command: [...t.manifest.train],
      essential: false,
      dependsOn: [{ containerName: c.stageIn, condition: 'SUCCESS' }],
      // MLCYCLE_RUN_ID, MLCYCLE_HYPERPARAMETERS and (when the run has one) MLCYCLE_VALIDATION
      // come per run as container overrides from the state machine.
      environment: env({
        MLCYCLE_CONTRACT: '1',
        MLCYCLE_MODEL: t.model,
        MLCYCLE_CODE_VERSION: props.codeVersion,
        MLCYCLE_TASK: taskOf(t.config),
        MLCYCLE_TARGET: t.config.target,
        MLCYCLE_TRAIN: JOB_VOLUME.train,
        MLCYCLE_VALIDATION: '',
        MLCYCLE_OUTPUT_DIR: JOB_VOLUME.outputDir,
        MLCYCLE_CHECKPOINT_DIR: JOB_VOLUME.checkpointDir,
        MLCYCLE_USE_GPU: useGpu ? '1' : '0',
      }),
      resourceRequirements: this.resources(t.config, true),
      mountPoints: [{ sourceVolume: JOB_VOLUME.name, containerPath: JOB_VOLUME.mountPath, readOnly: false }],
      logConfiguration: log,
    };
    return new batch.CfnJobDefinition(this, `${t.model}TrainJob`, {
      jobDefinitionName: props.trainJobName(t.model),
      type: 'container',
      platformCapabilities: ['EC2'],
      propagateTags: true,
      timeout: { attemptDurationSeconds: training.timeoutMinutes * 60 },
      retryStrategy: spotRetry(training.spot ? training.spotAttempts : 1),
      ecsProperties: {
        taskProperties: [
          {
            taskRoleArn: this.trainRoles[t.model]?.roleArn,
            executionRoleArn: common.executionRole.roleArn,
            volumes: [{ name: JOB_VOLUME.name }],
            containers: [
              this.stagerContainer(c.stageIn, 'stage-in-train', common.stagerUri, { essential: false, log }),
              // Started with the task so the shared volume lives until the task ends; it uploads
              // nothing before stage-in has restored the checkpoints.
              this.stagerContainer(c.checkpointSync, 'checkpoint-sync', common.stagerUri, {
                essential: false,
                log,
              }),
              trainer,
              this.stagerContainer(c.stageOut, 'stage-out-train', common.stagerUri, {
                essential: true,
                dependsOn: [{ containerName: c.trainer, condition: 'SUCCESS' }],
                log,
              }),
            ],
          },
        ],
      },
    });
  }

  private predictDefinition(
    t: ContractTrainer,
    imageUri: string,
    common: { bucket: string; stagerUri: string; executionRole: iam.Role },
  ): batch.CfnJobDefinition {
    const c = PREDICT_JOB_CONTAINERS;
    const log = this.logConfig(this.predictLogGroup, t.model);
    const training = t.config.training;
    return new batch.CfnJobDefinition(this, `${t.model}PredictJob`, {
      jobDefinitionName: `${this.predictJobDefinitionPrefix}${t.model}`,
      type: 'container',
      platformCapabilities: ['EC2'],
      propagateTags: true,
      timeout: { attemptDurationSeconds: predictAttemptSeconds(training) },
      retryStrategy: spotRetry(training.spot ? training.spotAttempts : 1),
      ecsProperties: {
        taskProperties: [
          {
            taskRoleArn: this.predictRoles[t.model]?.roleArn,
            executionRoleArn: common.executionRole.roleArn,
            volumes: [{ name: JOB_VOLUME.name }],
            containers: [
              this.stagerContainer(c.stageIn, 'stage-in-predict', common.stagerUri, {
                essential: false,
                log,
              }),
              {
                name: c.predictor,
                image: imageUri,
                command: [...t.manifest.predict],
                essential: false,
                dependsOn: [{ containerName: c.stageIn, condition: 'SUCCESS' }],
                environment: env(
                  predictModeEnv({
                    task: taskOf(t.config),
                    modelDir: JOB_VOLUME.modelDir,
                    input: JOB_VOLUME.predictInput,
                    predictions: JOB_VOLUME.predictions,
                  }),
                ),
                // CPU by default: evaluation never asks for the GPU.
                resourceRequirements: this.resources(t.config, false),
                mountPoints: [
                  { sourceVolume: JOB_VOLUME.name, containerPath: JOB_VOLUME.mountPath, readOnly: false },
                ],
                logConfiguration: log,
              },
              this.stagerContainer(c.stageOut, 'stage-out-predict', common.stagerUri, {
                essential: true,
                dependsOn: [{ containerName: c.predictor, condition: 'SUCCESS' }],
                log,
              }),
            ],
          },
        ],
      },
    });
  }

  /** What a train job may touch: its run's inputs and checkpoints in, outputs and the artifact out. */
  private trainRole(model: string, storage: Storage): iam.Role {
    const role = new iam.Role(this, `${model}TrainRole`, {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: `mlcycle train job of ${model}: reads its runs' input/ and checkpoints/, writes output/, model.tar.gz, checkpoints/`,
    });
    const run = (key: string) => storage.bucket.arnForObjects(`${runsPrefix(model)}*/${key}`);
    const why = `The ${model} train job: run ids are created per run, so the run segment is a wildcard; the key after it is fixed.`;
    addScopedStatement(
      role,
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [run(`${RUN_INPUTS.input}*`), run(`${RUN_INPUTS.checkpoints}*`)],
      }),
      why,
    );
    addScopedStatement(
      role,
      new iam.PolicyStatement({
        actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
        resources: [
          run(`${RUN_INPUTS.output}*`),
          run(RUN_INPUTS.modelArchive),
          run(`${RUN_INPUTS.checkpoints}*`),
        ],
      }),
      why,
    );
    // Stale files of an earlier attempt in output/, checkpoints the trainer removed.
    addScopedStatement(
      role,
      new iam.PolicyStatement({
        actions: ['s3:DeleteObject'],
        resources: [run(`${RUN_INPUTS.output}*`), run(`${RUN_INPUTS.checkpoints}*`)],
      }),
      why,
    );
    this.listOwnRuns(role, model, storage);
    denyHoldoutLabels(role, model, storage);
    return role;
  }

  /** What a predict job may touch: the holdout features and the artifact in, the predictions out. */
  private predictRole(model: string, storage: Storage): iam.Role {
    const role = new iam.Role(this, `${model}PredictRole`, {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: `mlcycle predict job of ${model}: reads holdout features or a smoke sample and model.tar.gz, writes predictions`,
    });
    const run = (key: string) => storage.bucket.arnForObjects(`${runsPrefix(model)}*/${key}`);
    const why = `The ${model} predict job: run ids are created per run, so the run segment is a wildcard; the key after it is fixed.`;
    addScopedStatement(
      role,
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [
          run(RUN_INPUTS.holdoutFeatures),
          run(RUN_INPUTS.modelArchive),
          // Deploy's smoke sample, one folder per execution (SMOKE_FILES).
          run(SMOKE_FILES.features('*')),
        ],
      }),
      why,
    );
    addScopedStatement(
      role,
      new iam.PolicyStatement({
        actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
        resources: [run(RUN_INPUTS.predictions), run(SMOKE_FILES.predictions('*'))],
      }),
      why,
    );
    denyHoldoutLabels(role, model, storage);
    return role;
  }

  private listOwnRuns(role: iam.Role, model: string, storage: Storage): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [storage.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${runsPrefix(model)}*`] } },
      }),
    );
  }

  /** ARNs SubmitJob checks for the predict job definitions, with or without a revision. */
  predictJobDefinitionArns(): string[] {
    const stack = Stack.of(this);
    return Object.keys(this.predictDefinitions).flatMap((model) => {
      const arn = stack.formatArn({
        service: 'batch',
        resource: 'job-definition',
        resourceName: `${this.predictJobDefinitionPrefix}${model}`,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      });
      return [arn, `${arn}:*`];
    });
  }
}

/** Retry only when EC2 takes the host away (a Spot reclaim); anything else fails the job at once. */
export function spotRetry(attempts: number): batch.CfnJobDefinition.RetryStrategyProperty {
  return {
    attempts,
    evaluateOnExit: [
      { onStatusReason: 'Host EC2*', action: 'RETRY' },
      { onReason: '*', action: 'EXIT' },
    ],
  };
}

/** Belt and braces: even a later, broader grant cannot let a job read the holdout labels. */
function denyHoldoutLabels(role: iam.Role, model: string, storage: Storage): void {
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      effect: iam.Effect.DENY,
      actions: ['s3:GetObject', 's3:GetObjectVersion'],
      resources: [storage.bucket.arnForObjects(`${runsPrefix(model)}*/${RUN_INPUTS.holdoutLabels}`)],
    }),
  );
}

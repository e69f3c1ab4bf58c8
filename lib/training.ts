import { existsSync, readFileSync } from 'node:fs';
import { ArnFormat, Aws, Duration, IgnoreMode, Size, Stack } from 'aws-cdk-lib';
import * as batch from 'aws-cdk-lib/aws-batch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { gitCodeVersion } from '../lambdas/contracts/code-version.js';
import type { ModelConfig } from '../lambdas/contracts/config-schema.js';
import { ENV, TRAINER_ENV } from '../lambdas/contracts/env.js';
import {
  jobDefinitionPrefix,
  predictJobDefinitionPrefix,
  trainingQueueName,
} from '../lambdas/contracts/names.js';
import { datasetsPrefix, runsPrefix } from '../lambdas/contracts/s3-layout.js';
import { loadTrainer } from '../local/trainers/manifest.js';
import { batchJobsArn } from './lifecycle-state-machine.js';
import { acknowledge, addScopedStatement } from './nag.js';
import { fromRoot, REPO_ROOT } from './paths.js';
import type { Storage } from './storage.js';
import { type ContractTrainer, TrainerJobs } from './trainer-jobs.js';

/**
 * Always excluded from the trainer's build context (the repository root), in .dockerignore syntax;
 * `trainerContextExcludes` adds the patterns of the Dockerfile's own `<Dockerfile>.dockerignore`.
 */
export const TRAINER_CONTEXT_EXCLUDES = [
  '**/node_modules',
  'cdk.out',
  '.mlcycle',
  '.git',
  'bench/data',
  'coverage',
  'test-output',
  'dist',
];

/**
 * Docker-syntax exclusions for the build context of `<folder>/Dockerfile` (context: the repository
 * root). BuildKit reads `<Dockerfile>.dockerignore` itself, but CDK stages the context from a
 * root `.dockerignore` only: without this, every file of the repository (tests, docs, benches)
 * would be staged and any edit to them would change the image asset and rebuild the image. The
 * Dockerfile and its ignore file are always kept (CDK keeps only a root-level `Dockerfile`).
 */
export function trainerContextExcludes(folder: string): string[] {
  const dockerfile = `${folder.replace(/\/+$/, '')}/Dockerfile`;
  const ignoreFile = fromRoot(`${dockerfile}.dockerignore`);
  if (!existsSync(ignoreFile)) return [...TRAINER_CONTEXT_EXCLUDES];
  const patterns = readFileSync(ignoreFile, 'utf8')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  // The defaults come after the file's patterns so that no `!lambdas/**` re-includes them.
  return [...patterns, ...TRAINER_CONTEXT_EXCLUDES, `!${dockerfile}`, `!${dockerfile}.dockerignore`];
}

export interface TrainingProps {
  /** Prefix of resource names; job definitions are `<project>-trainer-<model>`. */
  readonly project: string;
  /** Every model of the config: one job definition each, instance types from all. */
  readonly models: Readonly<Record<string, ModelConfig>>;
  /** The artifacts bucket; each job may read `datasets/<model>/` and write `runs/<model>/`. */
  readonly storage: Storage;
  /**
   * Most vCPUs the compute environment scales to.
   * @default 4 × the largest job's vCPUs, at least 16
   */
  readonly maxvCpus?: number;
  /**
   * NAT gateways of the training VPC. One keeps cost down; S3 traffic (datasets, runs, and the
   * layers of ECR images, which ECR serves from S3) bypasses NAT through a gateway endpoint.
   * @default 1
   */
  readonly natGateways?: number;
  /**
   * How long a job may wait RUNNABLE for capacity (Spot, a vCPU quota, instance availability)
   * before the queue cancels it with the reason. Batch accepts 10 minutes to 24 hours.
   * @default Duration.hours(1)
   */
  readonly capacityWait?: Duration;
  /**
   * Interface endpoints for ECR (API and registry), ECS (the agent's three endpoints) and
   * CloudWatch Logs in the training subnets, so the platform's own traffic does not depend on the
   * NAT gateway's AZ. Each costs about $0.01/h per AZ, so it is a choice (docs/deploy.md).
   * @default false
   */
  readonly interfaceEndpoints?: boolean;
  /**
   * Root volume of training instances (GPU images are large).
   * @default 100 GiB
   */
  readonly rootVolumeSize?: Size;
  /** @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Recorded in every version's lineage as its code version (the trainer's
   * MLCYCLE_CODE_VERSION).
   * @default the git commit of the checkout the image is built from, `-dirty` when it has
   * uncommitted changes, or 'unknown' outside a git checkout
   */
  readonly codeVersion?: string;
}

/**
 * The endpoints Batch's ECS instances call: the agent registers and reports (ecs, ecs-agent,
 * ecs-telemetry), pulls the image (ecr.api, ecr.dkr; layers come from S3) and ships logs.
 */
const INTERFACE_ENDPOINTS: Readonly<Record<string, ec2.InterfaceVpcEndpointAwsService>> = {
  EcrApi: ec2.InterfaceVpcEndpointAwsService.ECR,
  EcrDocker: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
  Ecs: ec2.InterfaceVpcEndpointAwsService.ECS,
  EcsAgent: ec2.InterfaceVpcEndpointAwsService.ECS_AGENT,
  EcsTelemetry: ec2.InterfaceVpcEndpointAwsService.ECS_TELEMETRY,
  Logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
};

/** Reasons a job can be stuck RUNNABLE that no wait will fix: cancel them at Batch's minimum. */
const MISCONFIGURED = [
  batch.JobStateTimeLimitActionsReason.COMPUTE_ENVIRONMENT_MAX_RESOURCE,
  batch.JobStateTimeLimitActionsReason.JOB_RESOURCE_REQUIREMENT,
];

/**
 * AWS Batch GPU training: a VPC (2 AZs, private subnets with egress, flow logs), one managed EC2
 * compute environment on the GPU instance types of all models (NVIDIA ECS AMI, encrypted root
 * volume, IMDSv2), a job queue that cancels jobs stuck without capacity, and one job definition
 * per model with its own resources, running an image built for linux/amd64.
 *
 * One queue serves all models because the state machine names one queue. The compute
 * environment is Spot only when every model allows Spot: a model that asks for On-Demand is
 * never interrupted. There is no Spot bid: price-capacity-optimized picks the pools, and Spot
 * never costs more than On-Demand.
 */
export class Training extends Construct {
  readonly vpc: ec2.Vpc;
  readonly computeEnvironment: batch.ManagedEc2EcsComputeEnvironment;
  readonly queue: batch.JobQueue;
  /** Job definitions are named `<prefix><model>` (the ASL builds the name from the model). */
  readonly jobDefinitionPrefix: string;
  /** Predict job definitions are named `<prefix><model>` (the ASL's `${PredictJobDefinitionPrefix}`). */
  readonly predictJobDefinitionPrefix: string;
  /** The code the trainer images and job environments were built from (MLCYCLE_CODE_VERSION). */
  readonly codeVersion: string;
  /** Models whose image folder has no trainer.yaml (the reference trainer): one container. */
  readonly jobDefinitions: Readonly<Record<string, batch.EcsJobDefinition>>;
  readonly jobRoles: Readonly<Record<string, iam.Role>>;
  /**
   * Models whose image folder holds a trainer.yaml: train and predict job definitions with the
   * stager around the unmodified user image (lib/trainer-jobs.ts); undefined when there are none.
   */
  readonly trainerJobs?: TrainerJobs;
  /** Every model with a train job definition, either kind. */
  readonly trainedModels: readonly string[];

  constructor(scope: Construct, id: string, props: TrainingProps) {
    super(scope, id);
    const models = Object.entries(props.models);
    if (models.length === 0) throw new Error('Training needs at least one model');
    this.jobDefinitionPrefix = jobDefinitionPrefix(props.project);
    this.predictJobDefinitionPrefix = predictJobDefinitionPrefix(props.project);
    const retention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;
    const codeVersion = props.codeVersion ?? gitCodeVersion(REPO_ROOT) ?? 'unknown';
    this.codeVersion = codeVersion;

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: props.natGateways ?? 1,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'training', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
      ],
      flowLogs: {
        all: {
          destination: ec2.FlowLogDestination.toCloudWatchLogs(
            new logs.LogGroup(this, 'FlowLogs', { retention }),
          ),
          trafficType: ec2.FlowLogTrafficType.ALL,
        },
      },
    });
    this.vpc.addGatewayEndpoint('S3', { service: ec2.GatewayVpcEndpointAwsService.S3 });

    // Everything the instances and the trainer need is an HTTPS API: the ECS agent's endpoints,
    // ECR, S3 and CloudWatch Logs. DNS, NTP and the instance metadata and credential endpoints
    // are link-local or the VPC resolver, which security groups do not filter. A destination
    // list would break trainers that call another AWS API or download packages, hence port 443
    // to anywhere (through the endpoints or the NAT gateway), and nothing else.
    const securityGroup = new ec2.SecurityGroup(this, 'InstancesSg', {
      vpc: this.vpc,
      description:
        'mlcycle training instances: no inbound; outbound HTTPS only (ECS, ECR, S3, CloudWatch Logs)',
      allowAllOutbound: false,
    });
    securityGroup.addEgressRule(
      ec2.Peer.anyIpv4(),
      ec2.Port.tcp(443),
      'HTTPS to the ECS agent endpoints, ECR, S3 and CloudWatch Logs',
    );
    if (props.interfaceEndpoints) {
      for (const [id, service] of Object.entries(INTERFACE_ENDPOINTS)) {
        const endpoint = this.vpc.addInterfaceEndpoint(id, {
          service,
          subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
          privateDnsEnabled: true,
          // Reachable from the training instances only, not from the whole VPC.
          open: false,
        });
        endpoint.connections.allowFrom(securityGroup, ec2.Port.tcp(443), 'HTTPS from the training instances');
      }
    }
    const launchTemplate = new ec2.LaunchTemplate(this, 'InstanceTemplate', {
      requireImdsv2: true,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs((props.rootVolumeSize ?? Size.gibibytes(100)).toGibibytes(), {
            encrypted: true,
            volumeType: ec2.EbsDeviceVolumeType.GP3,
            deleteOnTermination: true,
          }),
        },
      ],
    });

    const configs = models.map(([, m]) => m.training);
    const spot = configs.every((t) => t.spot);
    const largestJob = Math.max(...configs.map((t) => t.resources.vcpus));
    this.computeEnvironment = new batch.ManagedEc2EcsComputeEnvironment(this, 'GpuCompute', {
      vpc: this.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [securityGroup],
      launchTemplate,
      instanceTypes: [...new Set(configs.flatMap((t) => t.instanceTypes))].map(
        (t) => new ec2.InstanceType(t),
      ),
      useOptimalInstanceClasses: false,
      // Batch picks the NVIDIA AMI for GPU instance types and the plain one otherwise.
      images: [
        { imageType: batch.EcsMachineImageType.ECS_AL2023_NVIDIA },
        { imageType: batch.EcsMachineImageType.ECS_AL2023 },
      ],
      spot,
      ...(spot ? { allocationStrategy: batch.AllocationStrategy.SPOT_PRICE_CAPACITY_OPTIMIZED } : {}),
      minvCpus: 0,
      maxvCpus: props.maxvCpus ?? Math.max(16, 4 * largestJob),
      replaceComputeEnvironment: false,
    });
    acknowledge(
      this.computeEnvironment,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role]',
      'The ECS instance role of Batch instances: AWS maintains what the ECS agent needs to register and pull images; jobs use their own job role.',
    );

    this.queue = new batch.JobQueue(this, 'Queue', {
      jobQueueName: trainingQueueName(props.project),
      computeEnvironments: [{ computeEnvironment: this.computeEnvironment, order: 1 }],
      // A job nobody can run would sit RUNNABLE until the Train timeout; the queue cancels it
      // with the reason instead (a new account's Spot G/VT quota is 0), and RecordFailure says it.
      jobStateTimeLimitActions: [
        {
          action: batch.JobStateTimeLimitActionsAction.CANCEL,
          maxTime: props.capacityWait ?? Duration.hours(1),
          reason: batch.JobStateTimeLimitActionsReason.INSUFFICIENT_INSTANCE_CAPACITY,
          state: batch.JobStateTimeLimitActionsState.RUNNABLE,
        },
        ...MISCONFIGURED.map((reason) => ({
          action: batch.JobStateTimeLimitActionsAction.CANCEL,
          maxTime: Duration.minutes(10),
          reason,
          state: batch.JobStateTimeLimitActionsState.RUNNABLE,
        })),
      ],
    });

    const logGroup = new logs.LogGroup(this, 'TrainerLogs', { retention });
    const images = new Map<string, ecs.ContainerImage>();
    const imageFor = (folder: string): ecs.ContainerImage => {
      let image = images.get(folder);
      if (!image) {
        // fromAsset stages the context at synth; the image is built and pushed at deploy. The GPU
        // instances are x86, so an Arm laptop must not build its own architecture.
        image = ecs.ContainerImage.fromAsset(REPO_ROOT, {
          file: `${folder.replace(/\/+$/, '')}/Dockerfile`,
          platform: Platform.LINUX_AMD64,
          exclude: trainerContextExcludes(folder),
          ignoreMode: IgnoreMode.DOCKER,
        });
        images.set(folder, image);
      }
      return image;
    };

    const definitions: Record<string, batch.EcsJobDefinition> = {};
    const roles: Record<string, iam.Role> = {};
    const contractTrainers: ContractTrainer[] = [];
    for (const [model, m] of models) {
      const folder = m.training.image.replace(/\/+$/, '');
      if (existsSync(fromRoot(`${folder}/trainer.yaml`))) {
        contractTrainers.push({ model, config: m, folder, manifest: loadTrainer(fromRoot(folder)).manifest });
        continue;
      }
      // A folder without trainer.yaml (refused at config load; kept for a config built in code):
      // the image's own CMD runs, as the pre-contract reference trainer did.
      const jobRole = new iam.Role(this, `${model}JobRole`, {
        assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
        description: `mlcycle training job of ${model}: reads ${datasetsPrefix(model)}, writes ${runsPrefix(model)}`,
      });
      props.storage.grantPrefixes(
        jobRole,
        [
          { prefix: datasetsPrefix(model), read: true },
          { prefix: runsPrefix(model), write: true },
        ],
        `The ${model} training job reads only its datasets and writes only its runs; object keys under them are created per run.`,
      );
      const container = new batch.EcsEc2ContainerDefinition(this, `${model}Container`, {
        image: imageFor(m.training.image),
        cpu: m.training.resources.vcpus,
        memory: Size.mebibytes(m.training.resources.memoryMiB),
        ...(m.training.resources.gpus > 0 ? { gpu: m.training.resources.gpus } : {}),
        jobRole,
        // The run's own values (dataset, output, hyperparameters) come as overrides from the ASL.
        environment: {
          [ENV.bucket]: props.storage.bucket.bucketName,
          AWS_REGION: Aws.REGION,
          [TRAINER_ENV.codeVersion]: codeVersion,
        },
        logging: ecs.LogDriver.awsLogs({ streamPrefix: model, logGroup }),
      });
      definitions[model] = new batch.EcsJobDefinition(this, `${model}JobDefinition`, {
        jobDefinitionName: `${this.jobDefinitionPrefix}${model}`,
        container,
        timeout: Duration.minutes(m.training.timeoutMinutes),
        propagateTags: true,
        // Retry only when Spot takes the instance away; a failing trainer fails the run at once.
        // The Train task's budget counts these attempts (trainingBudget in the config schema).
        retryAttempts: m.training.spot ? m.training.spotAttempts : 1,
        retryStrategies: [
          batch.RetryStrategy.of(batch.Action.RETRY, batch.Reason.SPOT_INSTANCE_RECLAIMED),
          batch.RetryStrategy.of(batch.Action.EXIT, batch.Reason.custom({ onReason: '*' })),
        ],
      });
      roles[model] = jobRole;
      acknowledge(
        container,
        'AwsSolutions-IAM5[Resource::*]',
        'The execution role calls ecr:GetAuthorizationToken to pull the trainer image; that action supports no resource-level permissions.',
      );
    }
    this.jobDefinitions = definitions;
    this.jobRoles = roles;
    if (contractTrainers.length > 0) {
      this.trainerJobs = new TrainerJobs(this, 'TrainerJobs', {
        project: props.project,
        trainers: contractTrainers,
        storage: props.storage,
        trainJobName: (model) => `${this.jobDefinitionPrefix}${model}`,
        codeVersion,
        retention,
        stagerContextExcludes: trainerContextExcludes('containers/stager'),
        rootContextExcludes: trainerContextExcludes,
      });
    }
    this.trainedModels = models.map(([model]) => model);
  }

  /** ARNs SubmitJob checks for the predict (evaluation) job definitions. */
  predictJobDefinitionArns(): string[] {
    return this.trainerJobs?.predictJobDefinitionArns() ?? [];
  }

  /**
   * Stop the lifecycle's jobs (an ended execution's, whose task-token wait does not stop them):
   * batch:ListJobs, which supports no resource-level permissions, and batch:TerminateJob on the
   * jobs of this account and region.
   */
  grantStopJobs(grantee: iam.Role): void {
    const jobs = batchJobsArn(this);
    grantee.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'FindLifecycleJobs', actions: ['batch:ListJobs'], resources: ['*'] }),
    );
    addScopedStatement(
      grantee,
      new iam.PolicyStatement({
        sid: 'StopLifecycleJobs',
        actions: ['batch:TerminateJob'],
        resources: [jobs],
      }),
      'Job ids exist only once a job is submitted; TerminateJob is limited to jobs of this account and region, found by the names the state machine gives them.',
    );
  }

  /** ARNs SubmitJob checks: each job definition by name, with or without a revision. */
  jobDefinitionArns(): string[] {
    const stack = Stack.of(this);
    return this.trainedModels.flatMap((model) => {
      const arn = stack.formatArn({
        service: 'batch',
        resource: 'job-definition',
        resourceName: `${this.jobDefinitionPrefix}${model}`,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      });
      return [arn, `${arn}:*`];
    });
  }
}

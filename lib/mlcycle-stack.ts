import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct, IConstruct } from 'constructs';
import type { MlcycleConfig } from '../lambdas/contracts/config-schema.js';
import { ENV } from '../lambdas/contracts/env.js';
import { optionalEnvironment } from '../lambdas/contracts/function-env.js';
import { HANDLERS, type HandlerContract, type HandlerName } from '../lambdas/contracts/handlers.js';
import { retrainSchedules } from '../lambdas/contracts/retrain-schedules.js';
import { ApprovalApi } from './approval-api.js';
import { BatchJobOutcomes } from './batch-job-outcomes.js';
import { ClientDistribution } from './client-distribution.js';
import { DEPLOYED_CONFIG_PATH, DeployedConfig } from './deployed-config.js';
import { ExecutionOutcomes } from './execution-outcomes.js';
import { functionAccess, grantFunctionAccess } from './function-access.js';
import { type ExtraEntry, LifecycleFunctions } from './functions.js';
import { LifecycleStateMachine } from './lifecycle-state-machine.js';
import { Monitoring } from './monitoring.js';
import { acknowledge } from './nag.js';
import { OperatorAccess } from './operator-access.js';
import { Schedules } from './schedules.js';
import { Storage } from './storage.js';
import { Training } from './training.js';

/** The profiling worker the monitoring handlers start in worker threads, bundled next to them. */
export const PROFILE_WORKER: ExtraEntry = {
  entry: 'lambdas/handlers/profile-worker.ts',
  outfile: 'profile-worker.mjs',
};

export interface MlcycleStackProps extends StackProps {
  /** The validated mlcycle.config.yaml. */
  readonly config: MlcycleConfig;
  /**
   * Removal policy of the artifacts bucket and the registry table.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Extra files bundled into a function's asset.
   * @default PROFILE_WORKER into baseline and drift
   */
  readonly extraEntries?: Partial<Record<HandlerName, readonly ExtraEntry[]>>;
}

/**
 * mlcycle on AWS: storage, GPU training on Batch, the lifecycle state machine, the approval API,
 * monitoring on S3 uploads, schedules, and least-privilege grants function by function.
 */
export class MlcycleStack extends Stack {
  readonly storage: Storage;
  readonly functions: LifecycleFunctions;
  readonly monitoring: Monitoring;
  readonly training: Training;
  readonly lifecycle: LifecycleStateMachine;
  readonly api: ApprovalApi;
  readonly clients: ClientDistribution;
  readonly schedules: Schedules;
  readonly deployedConfig: DeployedConfig;
  readonly operators: OperatorAccess;
  readonly executionOutcomes: ExecutionOutcomes;

  constructor(scope: Construct, id: string, props: MlcycleStackProps) {
    super(scope, id, props);
    const { config } = props;
    const project = config.project;
    const models = Object.keys(config.models);

    // The table's name is CloudFormation's: it is retained on delete, and a fixed name would make
    // the next deploy collide with it. The CLI finds it through the TableName output.
    this.storage = new Storage(this, 'Storage', {
      archival: config.archival,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    const { bucket, table } = this.storage;

    const worker = [PROFILE_WORKER];
    this.functions = new LifecycleFunctions(this, 'Functions', {
      project,
      extraEntries: props.extraEntries ?? { baseline: worker, drift: worker },
      reservedConcurrency: config.monitoring.reservedConcurrency || {},
    });
    const fns = this.functions;
    const fn = (name: HandlerName) => fns.get(name);
    const role = (name: HandlerName) => fns.role(name);

    // Every function that applies a policy reads it from the stack's own config layer.
    this.deployedConfig = new DeployedConfig(this, 'DeployedConfig', { config });
    for (const [name, contract] of Object.entries(HANDLERS) as [HandlerName, HandlerContract][]) {
      if ((contract.env as readonly string[]).includes(ENV.configFile)) {
        fn(name).addLayers(this.deployedConfig.layer);
      }
    }

    this.monitoring = new Monitoring(this, 'Monitoring', {
      project,
      bucket,
      models,
      handlers: Object.fromEntries(fns.all()),
      asyncFunctions: [
        fn('baseline'),
        fn('drift'),
        fn('cleanup'),
        fn('approvalReminders'),
        fn('executionEnded'),
        fn('approvalReconciler'),
        fn('executionSucceeded'),
        fn('watchTrial'),
      ],
      alertEmails: config.monitoring.alerts.email,
    });

    this.training = new Training(this, 'Training', {
      project,
      models: config.models,
      storage: this.storage,
      capacityWait: Duration.minutes(config.batch.capacityWaitMinutes),
      interfaceEndpoints: config.batch.vpcEndpoints,
    });

    this.lifecycle = new LifecycleStateMachine(this, 'Lifecycle', {
      project,
      functions: Object.fromEntries(fns.all()),
      jobQueueArn: this.training.queue.jobQueueArn,
      jobDefinitionPrefix: this.training.jobDefinitionPrefix,
      // Train and predict (evaluation) jobs: the ASL may submit either. The predict prefix is
      // `this.training.predictJobDefinitionPrefix` (the `${PredictJobDefinitionPrefix}` substitution).
      jobDefinitionArns: [...this.training.jobDefinitionArns(), ...this.training.predictJobDefinitionArns()],
    });
    const stateMachine = this.lifecycle.stateMachine;

    this.api = new ApprovalApi(this, 'Approvals', {
      project,
      handlers: Object.fromEntries(fns.all()),
      sender: config.notifications.sender,
      senderDomain: config.notifications.senderDomain,
    });

    // What game clients read: manifests (cached, invalidated on change) and served models.
    this.clients = new ClientDistribution(this, 'Clients', { bucket, api: this.api.api });

    // Every function's environment, built by the contract from this stack's resources (the local
    // runtime builds its own from its endpoints with the same builder).
    fns.applyEnvironment({
      values: {
        [ENV.table]: table.tableName,
        [ENV.bucket]: bucket.bucketName,
        [ENV.emailSender]: config.notifications.sender,
        [ENV.configFile]: DEPLOYED_CONFIG_PATH,
        // Control routes believe API Gateway's IAM authorizer only (never a header).
        [ENV.authMode]: 'iam',
        [ENV.alertTopicArn]: this.monitoring.topic.topicArn,
        [ENV.approvalBaseUrl]: this.api.url,
        [ENV.signingSecretArn]: this.api.signingKey.secretArn,
        [ENV.stateMachineArn]: stateMachine.stateMachineArn,
        [ENV.codeVersion]: this.training.codeVersion,
        [ENV.jobQueue]: this.training.queue.jobQueueArn,
        [ENV.clientBaseUrl]: this.clients.baseUrl,
        [ENV.cdnDistributionId]: this.clients.distribution.distributionId,
      },
      optional: optionalEnvironment(config),
    });

    // Executions are started only through the start service, which records who asked: the
    // functions given the state machine's ARN (the control API, the weekly schedule and, when
    // enabled, critical drift).
    const starters = fns.given(ENV.stateMachineArn);

    // How executions end: the execution-ended handler on the state machine's status changes
    // (closes approval requests, fails runs, alerts once), the reconciler on its schedule (owed
    // callbacks, requests of ended executions), and an alarm on failed executions.
    this.executionOutcomes = new ExecutionOutcomes(this, 'ExecutionOutcomes', {
      project,
      stateMachine,
      alertTopic: this.monitoring.topic,
      subscribers: (Object.entries(HANDLERS) as [HandlerName, HandlerContract][]).flatMap(([name, c]) =>
        c.onExecutionStatus ? [{ name, fn: fn(name), statuses: c.onExecutionStatus }] : [],
      ),
    });

    // How the lifecycle's Batch jobs end: the batch-job-ended handler completes the waiting task.
    new BatchJobOutcomes(this, 'BatchJobOutcomes', {
      project,
      jobQueueArn: this.training.queue.jobQueueArn,
      subscribers: (Object.entries(HANDLERS) as [HandlerName, HandlerContract][]).flatMap(([name, c]) =>
        c.onBatchJobEnded ? [{ name, fn: fn(name) }] : [],
      ),
    });

    // Least privilege, function by function (lib/function-access.ts): table partitions, prefixes
    // of the S3 layout, and the few other resources each one touches.
    grantFunctionAccess(functionAccess({ models, starters }), role, {
      storage: this.storage,
      stateMachine,
      monitoring: this.monitoring,
      api: this.api,
      executionOutcomes: this.executionOutcomes,
      approvers: Object.values(config.environments).flatMap((e) => e.approvers),
      clients: this.clients,
      training: this.training,
    });

    this.schedules = new Schedules(this, 'Schedules', {
      project,
      retrainFunction: fn('scheduledRetrain'),
      retrains: retrainSchedules(config),
      scheduledFunctions: (Object.entries(HANDLERS) as [HandlerName, HandlerContract][]).flatMap(
        ([name, contract]) =>
          contract.schedule
            ? [
                {
                  name,
                  fn: fn(name),
                  expression: contract.schedule,
                  description: `mlcycle ${name} (${contract.entry})`,
                },
              ]
            : [],
      ),
    });

    this.operators = new OperatorAccess(this, 'Operators', {
      project,
      api: this.api.api,
      table,
      bucket,
      stateMachine,
      jobLogGroups: this.training.trainerJobs
        ? [this.training.trainerJobs.trainLogGroup, this.training.trainerJobs.predictLogGroup]
        : [],
    });
    new CfnOutput(this, 'OperatorPolicyArn', {
      value: this.operators.policy.managedPolicyArn,
      description:
        'Attach to the IAM users/roles of people who run mlcycle --aws (and map them under identities)',
    });

    // The CLI finds resources by these output names (bin/cli/context.ts).
    new CfnOutput(this, 'BucketName', { value: bucket.bucketName, description: 'Artifacts bucket' });
    new CfnOutput(this, 'TableName', { value: table.tableName, description: 'Registry table' });
    new CfnOutput(this, 'StateMachineArn', {
      value: stateMachine.stateMachineArn,
      description: 'Lifecycle state machine',
    });
    new CfnOutput(this, 'ClientBaseUrl', {
      value: this.clients.baseUrl,
      description: 'Game clients: manifests at models/<model>/<stage>, models at the download URL they name',
    });
    new CfnOutput(this, 'ApiUrl', {
      value: this.api.url,
      description: 'Approval pages and client manifests',
    });
    // SES verifies the domain once these CNAME records are published in its DNS.
    this.api.dkimRecords.forEach((record, i) => {
      new CfnOutput(this, `DkimRecord${i + 1}`, {
        value: `${record.name} CNAME ${record.value}`,
        description: `DKIM record ${i + 1} of 3 for ${config.notifications.senderDomain}: publish it in DNS`,
      });
    });

    this.acknowledgeProviderFindings();
  }

  /** Findings on the singleton Lambda CDK adds to configure S3 notifications (not ours to change). */
  private acknowledgeProviderFindings(): void {
    const provider: IConstruct | undefined = this.node.children.find((c) =>
      c.node.id.startsWith('BucketNotificationsHandler'),
    );
    if (!provider) return;
    const reason =
      'CDK’s own BucketNotificationsHandler (it writes the bucket’s notification configuration at deploy time); its role ' +
      'and the AWSLambdaBasicExecutionRole managed policy on it are set by aws-cdk-lib and cannot be replaced.';
    // Only the managed policy is reported: aws-cdk-lib scopes s3:PutBucketNotification to the
    // bucket and runs the handler on a current Python runtime.
    acknowledge(
      provider,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason,
    );
  }
}

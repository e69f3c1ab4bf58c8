import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct, IConstruct } from 'constructs';
import type { MlcycleConfig } from '../lambdas/contracts/config-schema.js';
import { ENV } from '../lambdas/contracts/env.js';
import { optionalEnvironment } from '../lambdas/contracts/function-env.js';
import { HANDLERS, type HandlerContract, type HandlerName } from '../lambdas/contracts/handlers.js';
import { PARTITIONS } from '../lambdas/contracts/table.js';
import { ApprovalApi } from './approval-api.js';
import { DEPLOYED_CONFIG_PATH, DeployedConfig } from './deployed-config.js';
import { ExecutionOutcomes } from './execution-outcomes.js';
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
      jobDefinitionArns: this.training.jobDefinitionArns(),
    });
    const stateMachine = this.lifecycle.stateMachine;

    this.api = new ApprovalApi(this, 'Approvals', {
      project,
      handlers: Object.fromEntries(fns.all()),
      sender: config.notifications.sender,
      senderDomain: config.notifications.senderDomain,
    });

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
      },
      optional: optionalEnvironment(config),
    });

    // Executions are started only through the start service, which records who asked: the
    // functions given the state machine's ARN (the control API, the weekly schedule and, when
    // enabled, critical drift).
    const starters = fns.given(ENV.stateMachineArn);
    for (const name of starters) {
      role(name).addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'StartLifecycle',
          actions: ['states:StartExecution'],
          resources: [stateMachine.stateMachineArn],
        }),
      );
    }

    // Least privilege, function by function: prefixes of the S3 layout, table actions, and the
    // few other resources each one touches.
    const s = this.storage;
    const why = (what: string) =>
      `${what}; keys under the prefix are created at run time, so the prefix is the narrowest scope.`;
    // Table writes are scoped by partition: the models of this config, or one kind of item.
    const P = PARTITIONS;
    const modelItems = models.map(P.model);
    s.grantTableRead(role('admit'));
    s.grantTableReadWrite(role('prepareRun'), modelItems);
    s.grantPrefixes(
      role('prepareRun'),
      [{ prefix: 'datasets/', read: true }],
      why('PrepareRun picks the newest dataset of the model'),
    );
    s.grantTableRead(role('loadCandidate'));
    s.grantPrefixes(
      role('evaluate'),
      [{ prefix: 'runs/', read: true, write: true }],
      why('Evaluate reads the trained model and holdout of a run and writes its evaluation'),
    );
    s.grantTableReadWrite(role('register'), modelItems);
    s.grantPrefixes(
      role('register'),
      [{ prefix: 'runs/', read: true }],
      why('Register reads the training summary of the run'),
    );
    s.grantTableRead(role('gate'));
    // RequestApproval reads what serves from the registry (the public manifest names nobody): no S3.
    s.grantTableReadWrite(role('requestApproval'), [P.approvals, P.approvalLookups]);
    // Reminders list pending requests (GSI1) and their decisions, and mark a request reminded.
    s.grantTableQueryAndUpdate(role('approvalReminders'), [P.approvals]);
    // Decisions, and on a rejection the version's status and the ledger's reject entry.
    s.grantTableReadWrite(role('approvalHttp'), [P.approvals, ...modelItems]);
    s.grantPrefixes(
      role('approvalHttp'),
      [
        { prefix: 'runs/', read: true },
        { prefix: 'reports/', read: true },
      ],
      why('The approval page shows the model card of the run and the latest drift summary'),
    );
    s.grantTableReadWrite(role('deploy'), modelItems);
    s.grantPrefixes(
      role('deploy'),
      [
        { prefix: 'runs/', read: true },
        { prefix: 'deployments/', read: true, write: true },
      ],
      why('Deploy validates the run’s artifact and publishes the client manifest'),
    );
    // The run and version, a pending request, and the execution's failure record (its alert marker).
    s.grantTableReadWrite(role('recordFailure'), [...modelItems, P.approvals, P.executions]);
    s.grantPrefixes(
      role('manifestHttp'),
      [{ prefix: 'deployments/', read: true }],
      why('The manifest endpoint serves client manifests only'),
    );
    for (const name of ['baseline', 'drift'] as const) {
      s.grantTableReadWrite(role(name), [
        ...modelItems,
        P.s3Events,
        // A retrain on critical drift records who asked (the drift monitor) before it starts.
        ...(name === 'drift' && starters.includes('drift') ? [P.starts] : []),
      ]);
      s.grantPrefixes(
        role(name),
        [
          { prefix: 'monitoring/', read: true },
          { prefix: 'reports/', read: true, write: true },
          ...(name === 'drift' ? [{ prefix: 'deployments/', read: true }] : []),
        ],
        why(`The ${name} handler reads uploads under monitoring/ and writes profiles and reports`),
      );
    }
    s.grantTableReadWrite(role('cleanup'), modelItems);
    s.grantPrefixes(
      role('cleanup'),
      [{ prefix: 'runs/', delete: true }],
      why('Cleanup deletes the run outputs of versions the retention policy drops'),
    );
    s.grantList(role('cleanup'));

    for (const name of ['startHttp', 'scheduledRetrain'] as const) {
      // Reads the registry (is the version promotable?) and writes start records only.
      s.grantTableReadWrite(role(name), [P.starts]);
    }
    // Rollbacks and registrations move a model's items; rollbacks republish the manifest after
    // hashing the target's artifact, registrations hash the artifact they register.
    s.grantTableReadWrite(role('registryHttp'), modelItems);
    s.grantPrefixes(
      role('registryHttp'),
      [
        { prefix: 'runs/', read: true },
        { prefix: 'deployments/', read: true, write: true },
      ],
      why('Rollback and registration hash artifacts under runs/; a rollback republishes the client manifest'),
    );
    s.grantTableReadWrite(role('decisionHttp'), [P.approvals, ...modelItems]);

    // Both monitoring handlers alert: drift on high/critical severity, both on a file they cannot process.
    this.monitoring.grantPublish(role('baseline'));
    this.monitoring.grantPublish(role('drift'));
    this.monitoring.grantPublish(role('recordFailure'));
    this.api.grantReadSigningKey(role('requestApproval'));
    this.api.grantReadSigningKey(role('approvalHttp'));
    // Reminders carry the same signed links as the first email, through the same SES path.
    this.api.grantReadSigningKey(role('approvalReminders'));
    const approvers = Object.values(config.environments).flatMap((e) => e.approvers);
    this.api.grantSendEmail(role('requestApproval'), approvers);
    this.api.grantSendEmail(role('approvalReminders'), approvers);
    // The approval callbacks (an emailed link, or the CLI's signed decision), and nothing else,
    // complete the Approve state's task token.
    for (const name of ['approvalHttp', 'decisionHttp'] as const) {
      role(name).addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'CompleteApprovals',
          actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
          resources: [stateMachine.stateMachineArn],
        }),
      );
    }

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
    for (const name of ['executionEnded', 'approvalReconciler'] as const) {
      // Requests and their callbacks, failure records, and a run's and version's status.
      s.grantTableReadWrite(role(name), [P.approvals, P.executions, ...modelItems]);
      this.monitoring.grantPublish(role(name));
      this.executionOutcomes.grantReadExecutions(role(name));
    }
    this.executionOutcomes.grantCompleteTasks(role('approvalReconciler'));

    this.schedules = new Schedules(this, 'Schedules', {
      project,
      retrainFunction: fn('scheduledRetrain'),
      retrains: Object.entries(config.models)
        .filter(([, m]) => m.schedule.enabled)
        .map(([model, m]) => ({ model, expression: m.schedule.retrain, stage: m.schedule.stage })),
      cleanupFunction: fn('cleanup'),
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

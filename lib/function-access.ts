import * as iam from 'aws-cdk-lib/aws-iam';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { HandlerName } from '../lambdas/contracts/handlers.js';
import { baselineProfilesPrefix, driftLatestKey, PREFIXES } from '../lambdas/contracts/s3-layout.js';
import { PARTITIONS } from '../lambdas/contracts/table.js';
import type { ApprovalApi } from './approval-api.js';
import type { ClientDistribution } from './client-distribution.js';
import type { ExecutionOutcomes } from './execution-outcomes.js';
import type { Monitoring } from './monitoring.js';
import type { PrefixGrant, Storage } from './storage.js';
import type { Training } from './training.js';

/** What a function may do on the registry table. */
export type TableAccess =
  /** Item reads and queries only. */
  | { readonly read: true }
  /** Reads, and writes to items of these partitions (`dynamodb:LeadingKeys`). */
  | { readonly write: readonly string[] }
  /** Query, and UpdateItem on items of these partitions; no other read, no create or delete. */
  | { readonly queryAndUpdate: readonly string[] };

/**
 * Everything one function may touch besides its own logs and traces. Granted in this order (so
 * each role's policy reads the same every synth): the state machine, the table, objects, listing,
 * alerts, the signing key, email, executions, task tokens.
 */
export interface FunctionAccess {
  /** states:StartExecution on the lifecycle (the functions given its ARN). */
  readonly startExecutions?: boolean;
  readonly table?: TableAccess;
  /** Object access under prefixes of the artifacts bucket, and why (the IAM5 acknowledgement). */
  readonly objects?: { readonly grants: readonly PrefixGrant[]; readonly why: string };
  /** s3:ListBucket without reading objects (readers get it with their read). */
  readonly list?: boolean;
  /** Publish to the alert topic. */
  readonly alerts?: boolean;
  /** Read the key that signs approval links. */
  readonly signingKey?: boolean;
  /** Send email from the sender, to the approvers. */
  readonly email?: boolean;
  /** Read the lifecycle's executions and their history. */
  readonly followExecutions?: boolean;
  /** states:DescribeExecution on the lifecycle's executions (is the caller's own still running?). */
  readonly describeExecutions?: boolean;
  /** states:StopExecution on the lifecycle's executions (a cancelled run's). */
  readonly stopExecutions?: boolean;
  /** Complete the Approve state's task tokens (SendTaskSuccess/SendTaskFailure). */
  readonly completeTasks?: boolean;
  /** cloudfront:CreateInvalidation on the client distribution (a stage change's manifest). */
  readonly invalidateClients?: boolean;
  /** Find and terminate the lifecycle's Batch jobs (those an ended execution left running). */
  readonly stopJobs?: boolean;
}

const read = (prefix: string): PrefixGrant => ({ prefix, read: true });
/**
 * The served copies clients download: written (copied from runs/), read back to verify their
 * sha256, and deleted when they do not match. Only Deploy and rollback hold it.
 */
const served: PrefixGrant = { prefix: PREFIXES.downloads, read: true, write: true, delete: true };
/** Keys under a prefix are created at run time, so the prefix is the narrowest scope. */
const why = (what: string) =>
  `${what}; keys under the prefix are created at run time, so the prefix is the narrowest scope.`;

/**
 * Least privilege, function by function: which partitions of the table it may write (the models of
 * this config, or one kind of item), which prefixes of the S3 layout it may read or write, and the
 * few other resources each one touches.
 */
export function functionAccess(props: {
  readonly models: readonly string[];
  /** The functions that start executions (given the state machine's ARN). */
  readonly starters: readonly HandlerName[];
}): Partial<Record<HandlerName, FunctionAccess>> {
  const P = PARTITIONS;
  const modelItems = props.models.map(P.model);
  const starts = (name: HandlerName) => props.starters.includes(name);
  const monitor = (name: 'baseline' | 'drift'): FunctionAccess => ({
    startExecutions: starts(name),
    // A retrain on critical drift records who asked (the drift monitor) before it starts.
    table: { write: [...modelItems, P.s3Events, ...(starts(name) ? [P.starts] : [])] },
    objects: {
      grants: [
        read(PREFIXES.monitoring),
        { prefix: PREFIXES.reports, read: true, write: true },
        // A rollout's automatic abort republishes the manifest (the control alone), as an abort does.
        ...(name === 'drift'
          ? [read(PREFIXES.runs), { prefix: PREFIXES.deployments, read: true, write: true }, served]
          : []),
      ],
      why: why(
        name === 'drift'
          ? 'The drift handler reads uploads under monitoring/, writes profiles, reports and rollout status pages, and republishes the client manifest when it aborts a rollout'
          : `The ${name} handler reads uploads under monitoring/ and writes profiles and reports`,
      ),
    },
    // Both alert: drift on high/critical severity, both on a file they cannot process.
    alerts: true,
    ...(name === 'drift' ? { invalidateClients: true } : {}),
  });
  // Requests and their callbacks, failure records, and a run's and version's status.
  const executionOutcome: FunctionAccess = {
    table: { write: [P.approvals, P.executions, ...modelItems] },
    alerts: true,
    followExecutions: true,
    stopJobs: true,
  };
  // Reads the registry (is the version promotable?) and writes start records only.
  const starter = (name: HandlerName): FunctionAccess => ({
    startExecutions: starts(name),
    table: { write: [P.starts] },
  });
  return {
    admit: { table: { read: true } },
    // Also asks whether its own execution still runs, once it has recorded the run.
    prepareRun: {
      describeExecutions: true,
      table: { write: modelItems },
      objects: {
        grants: [read(PREFIXES.datasets)],
        why: why('PrepareRun picks the newest dataset of the model'),
      },
    },
    // A sweep trial's early stopping: the trial's and its sweep's runs and their metrics.jsonl.
    checkTrial: {
      table: { write: modelItems },
      objects: {
        grants: [read(PREFIXES.runs)],
        why: why('CheckTrial reads the per-epoch metrics of the trials of a sweep'),
      },
    },
    // A sweep trial's early stopping while it trains: the same reads and writes as CheckTrial,
    // and TerminateJob for the weak trial's Train job.
    watchTrial: {
      table: { write: modelItems },
      objects: {
        grants: [read(PREFIXES.runs)],
        why: why("The trial watcher reads the training progress of a sweep's trials"),
      },
      stopJobs: true,
    },
    // Records how each trial of a sweep ended, on its run; reads no object.
    pickBest: { table: { write: modelItems } },
    loadCandidate: { table: { read: true } },
    evaluate: {
      objects: {
        grants: [{ prefix: PREFIXES.runs, read: true, write: true }],
        why: why('Evaluate reads the trained model and holdout of a run and writes its evaluation'),
      },
    },
    register: {
      table: { write: modelItems },
      objects: { grants: [read(PREFIXES.runs)], why: why('Register reads the training summary of the run') },
    },
    gate: { table: { read: true } },
    // Reads what serves from the registry (the public manifest names nobody): no S3.
    requestApproval: {
      table: { write: [P.approvals, P.approvalLookups] },
      signingKey: true,
      email: true,
    },
    // Lists pending requests (GSI1) and their decisions, marks a request reminded, and mails the
    // same signed links as the first email, through the same SES path.
    approvalReminders: { table: { queryAndUpdate: [P.approvals] }, signingKey: true, email: true },
    // Decisions, and on a rejection the version's status and the ledger's reject entry; an
    // emailed link completes the Approve state's task token.
    approvalHttp: {
      table: { write: [P.approvals, ...modelItems] },
      objects: {
        grants: [read(PREFIXES.runs), read(PREFIXES.reports)],
        why: why('The approval page shows the model card of the run and the latest drift summary'),
      },
      signingKey: true,
      completeTasks: true,
    },
    // Completes the task that waits for a Batch job: nothing else.
    batchJobEnded: { completeTasks: true },
    prepareSmoke: {
      table: { read: true },
      objects: {
        grants: [{ prefix: PREFIXES.runs, read: true, write: true }, read(PREFIXES.datasets)],
        why: why(
          'PrepareSmoke reads a version’s holdout or dataset head and writes the smoke sample under its run',
        ),
      },
    },
    deploy: {
      table: { write: modelItems },
      objects: {
        grants: [read(PREFIXES.runs), { prefix: PREFIXES.deployments, read: true, write: true }, served],
        why: why(
          'Deploy validates the run’s artifact, copies it under downloads/ (verified) and publishes the client manifest',
        ),
      },
      invalidateClients: true,
    },
    // The run and version, a pending request, and the execution's failure record (its alert marker).
    recordFailure: { table: { write: [...modelItems, P.approvals, P.executions] }, alerts: true },
    executionEnded: executionOutcome,
    // Its once-per-notice markers, the alert topic (the email channel), the execution's history.
    executionSucceeded: { table: { write: [P.notices] }, alerts: true, followExecutions: true },
    // Also redelivers owed approval callbacks.
    approvalReconciler: { ...executionOutcome, completeTasks: true },
    manifestHttp: {
      objects: {
        grants: [read(PREFIXES.deployments)],
        why: why('The manifest endpoint serves client manifests only'),
      },
    },
    baseline: monitor('baseline'),
    drift: monitor('drift'),
    cleanup: {
      table: { write: modelItems },
      objects: {
        grants: [{ prefix: PREFIXES.runs, delete: true }],
        why: why('Cleanup deletes the run outputs of versions the retention policy drops'),
      },
      list: true,
    },
    startHttp: starter('startHttp'),
    scheduledRetrain: starter('scheduledRetrain'),
    // Rollbacks and registrations move a model's items; rollbacks republish the manifest after
    // hashing the target's artifact, registrations hash the artifact they register.
    registryHttp: {
      // A rollback is noticed once: its marker, and the alert topic (the email channel).
      table: { write: [...modelItems, P.notices] },
      alerts: true,
      objects: {
        grants: [read(PREFIXES.runs), { prefix: PREFIXES.deployments, read: true, write: true }, served],
        why: why(
          'Rollback and registration hash artifacts under runs/; a rollback copies its target under downloads/ and republishes the client manifest',
        ),
      },
      invalidateClients: true,
    },
    // Ramps and aborts change rollout items and the ledger in the model's partition, verify the
    // variants' served copies (hashing them; copying one that is missing from its run) and
    // republish the manifest; no execution, no approval item.
    rolloutHttp: {
      // …and notices an abort once: its marker, and the alert topic (the email channel).
      table: { write: [...modelItems, P.notices] },
      alerts: true,
      objects: {
        grants: [read(PREFIXES.runs), { prefix: PREFIXES.deployments, read: true, write: true }, served],
        why: why(
          'A rollout change verifies the served copies of its variants under downloads/ (copied from runs/ if missing) and republishes the client manifest',
        ),
      },
      invalidateClients: true,
    },
    // Baseline versions, discarded batches and their audit entries live in the model's
    // partition; using a baseline refreshes the current copy of its profile under reports/.
    monitoringHttp: {
      table: { write: modelItems },
      objects: {
        grants: props.models.map((m) => ({ prefix: baselineProfilesPrefix(m), read: true, write: true })),
        why: why('Using a baseline reads its profile and refreshes the current copy of the model’s profiles'),
      },
    },
    // GET /status/{model}: reads only (registry, approvals, cleanup history; the drift summary).
    statusHttp: {
      table: { read: true },
      objects: {
        grants: props.models.map((m) => read(driftLatestKey(m))),
        why: 'The status endpoint reads each model’s latest drift summary (one key per model of the config)',
      },
    },
    // `runs cancel` and `sweep stop` mark runs cancelled in their model's partition and stop the
    // execution (a sweep's once it has asked whether it still runs); a cancelled sweep trial's
    // jobs are terminated instead.
    runControlHttp: { table: { write: modelItems }, stopExecutions: true, stopJobs: true },
    // The CLI's signed decision completes the Approve state's task token, as a link does.
    decisionHttp: { table: { write: [P.approvals, ...modelItems] }, completeTasks: true },
  };
}

/** The resources the grants name. */
export interface AccessTargets {
  readonly storage: Storage;
  readonly stateMachine: IStateMachine;
  readonly monitoring: Monitoring;
  readonly api: ApprovalApi;
  readonly executionOutcomes: ExecutionOutcomes;
  /** Addresses approval email goes to (SES sandbox: recipients are authorised too). */
  readonly approvers: readonly string[];
  /** The distribution game clients read manifests and models from. */
  readonly clients: ClientDistribution;
  /** The training queue and its jobs. */
  readonly training: Training;
}

/** Grants each function's row of the table to its role. */
export function grantFunctionAccess(
  rows: Partial<Record<HandlerName, FunctionAccess>>,
  role: (name: HandlerName) => iam.Role,
  to: AccessTargets,
): void {
  for (const [name, access] of Object.entries(rows) as [HandlerName, FunctionAccess][]) {
    const r = role(name);
    if (access.startExecutions) {
      r.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'StartLifecycle',
          actions: ['states:StartExecution'],
          resources: [to.stateMachine.stateMachineArn],
        }),
      );
    }
    const table = access.table;
    if (table && 'read' in table) to.storage.grantTableRead(r);
    if (table && 'write' in table) to.storage.grantTableReadWrite(r, table.write);
    if (table && 'queryAndUpdate' in table) to.storage.grantTableQueryAndUpdate(r, table.queryAndUpdate);
    if (access.objects) to.storage.grantPrefixes(r, access.objects.grants, access.objects.why);
    if (access.list) to.storage.grantList(r);
    if (access.alerts) to.monitoring.grantPublish(r);
    if (access.signingKey) to.api.grantReadSigningKey(r);
    if (access.email) to.api.grantSendEmail(r, to.approvers);
    if (access.followExecutions) to.executionOutcomes.grantReadExecutions(r);
    if (access.describeExecutions) to.executionOutcomes.grantDescribeExecutions(r);
    if (access.stopExecutions) to.executionOutcomes.grantStopExecutions(r);
    if (access.completeTasks) to.executionOutcomes.grantCompleteTasks(r);
    if (access.invalidateClients) to.clients.grantInvalidate(r);
    if (access.stopJobs) to.training.grantStopJobs(r);
  }
}

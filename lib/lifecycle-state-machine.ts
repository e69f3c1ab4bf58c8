import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { HandlerName } from '../lambdas/contracts/handlers.js';
import { predictJobDefinitionPrefix, stateMachineName } from '../lambdas/contracts/names.js';
import { aslFunctions, aslSubstitutions, readAsl } from '../lambdas/contracts/state-machine.js';
import { aslBudgetProblems, type BudgetedDefinition } from './asl-budget.js';
import { vendedLogGroupName } from './log-groups.js';
import { acknowledge, addScopedStatement } from './nag.js';
import { ASL_FILE } from './paths.js';

/** Every Batch job of the stack's account and region: job ids exist only once a job is submitted. */
export function batchJobsArn(scope: Construct): string {
  return Stack.of(scope).formatArn({
    service: 'batch',
    resource: 'job',
    resourceName: '*',
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
}

/**
 * The tag keys the definition's Batch SubmitJob tasks set (`Tags`, with or without `.$`), those
 * of a Map's iterations (a sweep's trial jobs) included.
 */
export function submitJobTagKeys(definition: { States: Record<string, Record<string, unknown>> }): string[] {
  const keys = new Set<string>();
  const states = (d: { States: Record<string, Record<string, unknown>> }): Record<string, unknown>[] =>
    Object.values(d.States).flatMap((st) => {
      const processor = st.ItemProcessor as { States: Record<string, Record<string, unknown>> } | undefined;
      return processor ? [st, ...states(processor)] : [st];
    });
  for (const state of states(definition)) {
    if (typeof state.Resource !== 'string' || !state.Resource.includes(':batch:submitJob')) continue;
    const tags = (state.Parameters as { Tags?: Record<string, unknown> } | undefined)?.Tags ?? {};
    for (const key of Object.keys(tags)) keys.add(key.replace(/\.\$$/, ''));
  }
  return [...keys].sort();
}

export interface LifecycleStateMachineProps {
  /** Prefix of the state machine's name (`<project>-lifecycle`). */
  readonly project: string;
  /** The function behind each handler a Task invokes (those with HANDLERS[*].aslPlaceholder). */
  readonly functions: Readonly<Partial<Record<HandlerName, lambda.IFunction>>>;
  /** ARN of the training job queue (`${TrainingJobQueueArn}`). */
  readonly jobQueueArn: string;
  /** Prefix of the per-model job definition names (`${TrainingJobDefinitionPrefix}`). */
  readonly jobDefinitionPrefix: string;
  /**
   * Prefix of the per-model predict job definitions (`${PredictJobDefinitionPrefix}`).
   * @default predictJobDefinitionPrefix(project)
   */
  readonly predictJobDefinitionPrefix?: string;
  /** ARNs batch:SubmitJob may name: the job definitions, by name and with a revision. */
  readonly jobDefinitionArns: readonly string[];
  /**
   * The ASL file.
   * @default state-machines/lifecycle.asl.json
   */
  readonly definitionFile?: string;
  /** @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The lifecycle state machine, loaded from the one ASL file with `definitionSubstitutions` for
 * every placeholder (a placeholder without a value, or a value without a placeholder, fails synth), logging ALL events and tracing
 * with X-Ray. Its role may invoke exactly the Lambdas the ASL names and submit exactly the
 * training job definitions to the training queue.
 */
export class LifecycleStateMachine extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  /** What each ASL placeholder is replaced with at deploy time. */
  readonly substitutions: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: LifecycleStateMachineProps) {
    super(scope, id);
    const file = props.definitionFile ?? ASL_FILE;
    const invoked = aslFunctions().map((name) => {
      const fn = props.functions[name];
      if (!fn) throw new Error(`${file} invokes the ${name} function, and none was given`);
      return fn;
    });
    const substitutions = aslSubstitutions({
      trainingJobQueueArn: props.jobQueueArn,
      trainingJobDefinitionPrefix: props.jobDefinitionPrefix,
      predictJobDefinitionPrefix:
        props.predictJobDefinitionPrefix ?? predictJobDefinitionPrefix(props.project),
      functionArn: (name) => (props.functions[name] as lambda.IFunction).functionArn,
    });
    const definition = readAsl(file, substitutions);
    this.substitutions = substitutions;
    // Placeholders sit inside JSON strings, so the unsubstituted text parses.
    const parsed = JSON.parse(definition) as BudgetedDefinition & {
      States: Record<string, Record<string, unknown>>;
    };
    const problems = aslBudgetProblems(parsed);
    if (problems.length) throw new Error(`${file}: the timeouts do not add up: ${problems.join('; ')}`);

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
      description: 'mlcycle lifecycle state machine',
    });
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: vendedLogGroupName('states', stateMachineName(props.project)),
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
    });
    this.stateMachine = new sfn.StateMachine(this, 'Resource', {
      stateMachineName: stateMachineName(props.project),
      // Inline (DefinitionString), not an S3 asset: the template shows the deployed definition,
      // and CloudFormation replaces each `${Placeholder}` from definitionSubstitutions.
      definitionBody: sfn.DefinitionBody.fromString(definition),
      definitionSubstitutions: substitutions,
      role: this.role,
      tracingEnabled: true,
      // Every event, but not the data: the Approve state's input carries its task token, and
      // whoever reads a token could complete the approval.
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });

    // Exactly the unqualified function ARNs the ASL names (grantInvoke would add `:*` for every
    // version and alias).
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'InvokeLifecycleFunctions',
        actions: ['lambda:InvokeFunction'],
        resources: invoked.map((fn) => fn.functionArn),
      }),
    );
    addScopedStatement(
      this.role,
      new iam.PolicyStatement({
        sid: 'SubmitTrainingJobs',
        actions: ['batch:SubmitJob'],
        resources: [props.jobQueueArn, ...props.jobDefinitionArns],
      }),
      'SubmitJob names a job definition by name; `<name>:*` admits its revisions and nothing else.',
    );
    const jobs = batchJobsArn(this);
    const tagKeys = submitJobTagKeys(parsed);
    if (tagKeys.length) {
      // Batch authorises the tags of a tagged SubmitJob as batch:TagResource on the queue, the
      // job definition and the new job; without it every training job fails with AccessDenied.
      addScopedStatement(
        this.role,
        new iam.PolicyStatement({
          sid: 'TagTrainingJobs',
          actions: ['batch:TagResource'],
          resources: [props.jobQueueArn, ...props.jobDefinitionArns, jobs],
          conditions: { 'ForAllValues:StringEquals': { 'aws:TagKeys': tagKeys } },
        }),
        'Tags are authorised on the job being created, whose id is known only then; the condition admits only the ASL’s own tag keys.',
      );
    }
    acknowledge(
      this.role,
      'AwsSolutions-IAM5[Resource::*]',
      'Only actions without resource-level permissions use "*": ' +
        'X-Ray PutTraceSegments/PutTelemetryRecords/GetSampling* (tracing) and the CloudWatch Logs delivery actions (logging ALL).',
    );
  }
}

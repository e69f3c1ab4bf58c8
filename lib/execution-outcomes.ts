import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { EXECUTION_STATUS_CHANGE, type ExecutionFinalStatus } from '../lambdas/contracts/execution-events.js';
import { stateMachineName } from '../lambdas/contracts/names.js';
import { addScopedStatement } from './nag.js';

/** A Lambda the contract subscribes to the lifecycle's executions ending (HandlerContract.onExecutionStatus). */
export interface ExecutionStatusSubscriber {
  /** Contract name; the rule is named `<project>-<name>`. */
  readonly name: string;
  readonly fn: lambda.IFunction;
  readonly statuses: readonly ExecutionFinalStatus[];
}

export interface ExecutionOutcomesProps {
  /** Prefix of resource names. */
  readonly project: string;
  readonly stateMachine: sfn.StateMachine;
  /** Each gets the state machine's status-change events for its statuses. */
  readonly subscribers: readonly ExecutionStatusSubscriber[];
  /** Where the alarm on failed executions notifies. */
  readonly alertTopic: sns.ITopic;
}

/**
 * How the lifecycle's executions end, on AWS: an EventBridge rule per subscriber on this state
 * machine's "Step Functions Execution Status Change" events (the execution-ended handler closes
 * approval requests, fails the run and alerts once), and a CloudWatch alarm on failed or
 * timed-out executions that notifies the alert topic — which does not depend on any Lambda.
 */
export class ExecutionOutcomes extends Construct {
  readonly rules: Readonly<Record<string, events.Rule>>;
  readonly failedExecutionsAlarm: cloudwatch.Alarm;
  private readonly executionArns: string;
  private readonly stateMachine: sfn.IStateMachine;
  private readonly project: string;

  constructor(scope: Construct, id: string, props: ExecutionOutcomesProps) {
    super(scope, id);
    this.project = props.project;
    this.stateMachine = props.stateMachine;
    this.executionArns = Stack.of(this).formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${props.stateMachine.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const rules: Record<string, events.Rule> = {};
    for (const s of props.subscribers) {
      rules[s.name] = new events.Rule(this, `On-${s.name}`, {
        ruleName: `${props.project}-${s.name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
        description: `mlcycle: ${s.name} on executions that end ${s.statuses.join(', ')}`,
        eventPattern: {
          source: ['aws.states'],
          detailType: [EXECUTION_STATUS_CHANGE],
          detail: { stateMachineArn: [props.stateMachine.stateMachineArn], status: [...s.statuses] },
        },
        // The event itself: the handler validates its shape. Retried for a while; after that the
        // reconciler's schedule still closes what the execution left open.
        targets: [new targets.LambdaFunction(s.fn, { retryAttempts: 8, maxEventAge: Duration.hours(6) })],
      });
    }
    this.rules = rules;

    const failed = new cloudwatch.MathExpression({
      label: 'failed or timed-out executions',
      expression: 'failed + timedOut',
      usingMetrics: {
        failed: props.stateMachine.metricFailed({ statistic: 'Sum' }),
        timedOut: props.stateMachine.metricTimedOut({ statistic: 'Sum' }),
      },
      period: Duration.minutes(5),
    });
    this.failedExecutionsAlarm = new cloudwatch.Alarm(this, 'FailedExecutions', {
      alarmDescription: `${props.project}: a lifecycle execution failed or timed out (see the alert topic and the execution's history)`,
      metric: failed,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.failedExecutionsAlarm.addAlarmAction(new cwActions.SnsAction(props.alertTopic));
  }

  /** DescribeExecution and GetExecutionHistory on this state machine's executions, nothing else. */
  grantReadExecutions(role: iam.IRole & Construct): void {
    addScopedStatement(
      role,
      new iam.PolicyStatement({
        sid: 'ReadLifecycleExecutions',
        actions: ['states:DescribeExecution', 'states:GetExecutionHistory'],
        resources: [this.executionArns],
      }),
      'Execution ARNs exist only once an execution starts; `<state machine name>:*` admits the executions of this state machine and nothing else.',
    );
  }

  /**
   * DescribeExecution on this state machine's executions, nothing else: for a function the state
   * machine itself invokes (PrepareRun's check), so the ARN is built from the state machine's
   * name as configured, not its attribute (which would make the state machine, the function and
   * its policy depend on each other).
   */
  grantDescribeExecutions(role: iam.IRole & Construct): void {
    addScopedStatement(
      role,
      new iam.PolicyStatement({
        sid: 'DescribeLifecycleExecutions',
        actions: ['states:DescribeExecution'],
        resources: [
          Stack.of(this).formatArn({
            service: 'states',
            resource: 'execution',
            resourceName: `${stateMachineName(this.project)}:*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
      'Execution ARNs exist only once an execution starts; `<state machine name>:*` admits the executions of this state machine and nothing else.',
    );
  }

  /**
   * StopExecution on this state machine's executions, and DescribeExecution to ask first whether
   * one still runs, nothing else (`runs cancel`, `sweep stop`).
   */
  grantStopExecutions(role: iam.IRole & Construct): void {
    addScopedStatement(
      role,
      new iam.PolicyStatement({
        sid: 'StopLifecycleExecutions',
        actions: ['states:StopExecution', 'states:DescribeExecution'],
        resources: [this.executionArns],
      }),
      'A cancelled run’s execution ARN exists only once it starts; `<state machine name>:*` admits the executions of this state machine and nothing else.',
    );
  }

  /** SendTaskSuccess/SendTaskFailure for task tokens of this state machine. */
  grantCompleteTasks(role: iam.IRole): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'CompleteApprovals',
        actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
        resources: [this.stateMachine.stateMachineArn],
      }),
    );
  }
}

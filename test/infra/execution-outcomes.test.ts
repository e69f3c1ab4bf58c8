import type { CfnElement } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXECUTION_ENDED_STATUSES } from '../../lambdas/contracts/execution-events.js';
import { HANDLERS, type HandlerName } from '../../lambdas/contracts/handlers.js';
import {
  type AttachedStatement,
  actionsOf,
  defaultRawConfig,
  identityStatements,
  list,
  refOf,
  resourcesOf,
  type SynthesizedApp,
  synthApp,
} from './support.js';

let s: SynthesizedApp;
let statements: AttachedStatement[];
const idOf = (construct: IConstruct) => s.stack.getLogicalId(construct.node.defaultChild as CfnElement);
const fnId = (name: HandlerName) => idOf(s.stack.functions.get(name));
const roleId = (name: HandlerName) => idOf(s.stack.functions.role(name));
const smId = () => idOf(s.stack.lifecycle.stateMachine);
const ofRole = (role: string) => statements.filter((a) => a.roles.includes(role)).map((a) => a.statement);

beforeAll(() => {
  s = synthApp(defaultRawConfig(), { bundle: false });
  statements = identityStatements(s.template);
});
afterAll(() => s?.dispose());

describe('how lifecycle executions end (AWS)', () => {
  it('an EventBridge rule sends this state machine’s FAILED, TIMED_OUT and ABORTED status changes to the execution-ended Lambda, retried', () => {
    expect(HANDLERS.executionEnded.onExecutionStatus).toEqual([...EXECUTION_ENDED_STATUSES]);
    const rules = resourcesOf(s.template, 'AWS::Events::Rule').filter(([, r]) =>
      list(r.Properties?.Targets as { Arn: unknown }[]).some((t) => refOf(t.Arn) === fnId('executionEnded')),
    );
    expect(rules).toHaveLength(1);
    const [ruleId, rule] = rules[0] ?? ['', { Type: '' }];
    expect(rule.Properties?.EventPattern).toEqual({
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: { stateMachineArn: [{ Ref: smId() }], status: ['FAILED', 'TIMED_OUT', 'ABORTED'] },
    });
    expect(rule.Properties?.State).toBe('ENABLED');
    expect(list(rule.Properties?.Targets as Record<string, unknown>[])).toEqual([
      {
        Arn: { 'Fn::GetAtt': [fnId('executionEnded'), 'Arn'] },
        Id: expect.any(String),
        RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 6 * 3600 },
      },
    ]);
    s.template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [fnId('executionEnded'), 'Arn'] },
      SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] },
    });
  });

  it('the cleanup Lambda gets this state machine’s SUCCEEDED status changes (retention after a deploy), as well as its daily rule', () => {
    const rules = resourcesOf(s.template, 'AWS::Events::Rule').filter(([, r]) =>
      list(r.Properties?.Targets as { Arn: unknown }[]).some((t) => refOf(t.Arn) === fnId('cleanup')),
    );
    expect(rules.map(([, r]) => r.Properties?.EventPattern ?? r.Properties?.ScheduleExpression)).toEqual(
      expect.arrayContaining([
        HANDLERS.cleanup.schedule,
        {
          source: ['aws.states'],
          'detail-type': ['Step Functions Execution Status Change'],
          detail: { stateMachineArn: [{ Ref: smId() }], status: ['SUCCEEDED'] },
        },
      ]),
    );
    expect(rules).toHaveLength(2);
  });

  it('the approval reconciler runs on its contract schedule', () => {
    const rule = s.stack.schedules.functionRules.approvalReconciler;
    expect(rule).toBeDefined();
    const [, cfn] =
      resourcesOf(s.template, 'AWS::Events::Rule').find(([id]) => id === idOf(rule as IConstruct)) ?? [];
    expect(cfn?.Properties?.ScheduleExpression).toBe(HANDLERS.approvalReconciler.schedule);
    expect(list(cfn?.Properties?.Targets as { Arn: unknown }[]).map((t) => refOf(t.Arn))).toEqual([
      fnId('approvalReconciler'),
    ]);
  });

  it('a CloudWatch alarm on failed or timed-out executions of this state machine notifies the alert topic', () => {
    const alarms = resourcesOf(s.template, 'AWS::CloudWatch::Alarm').filter(([, r]) =>
      JSON.stringify(r.Properties?.Metrics ?? []).includes('ExecutionsFailed'),
    );
    expect(alarms).toHaveLength(1);
    const alarm = alarms[0]?.[1].Properties ?? {};
    expect(alarm.AlarmActions).toEqual([{ Ref: idOf(s.stack.monitoring.topic) }]);
    expect(alarm.Threshold).toBe(1);
    expect(alarm.ComparisonOperator).toBe('GreaterThanOrEqualToThreshold');
    expect(alarm.TreatMissingData).toBe('notBreaching');
    const metrics = (alarm.Metrics ?? []) as {
      Expression?: string;
      MetricStat?: {
        Metric: { Namespace: string; MetricName: string; Dimensions: { Name: string; Value: unknown }[] };
      };
    }[];
    expect(metrics.find((m) => m.Expression)?.Expression).toBe('failed + timedOut');
    const stats = metrics.flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric] : []));
    expect(stats.map((m) => m.MetricName).sort()).toEqual(['ExecutionsFailed', 'ExecutionsTimedOut']);
    for (const m of stats) {
      expect(m.Namespace).toBe('AWS/States');
      expect(m.Dimensions).toEqual([{ Name: 'StateMachineArn', Value: { Ref: smId() } }]);
    }
  });

  it('an EventBridge rule sends this state machine’s SUCCEEDED status changes to the notices Lambda, retried', () => {
    expect(HANDLERS.executionSucceeded.onExecutionStatus).toEqual(['SUCCEEDED']);
    const rules = resourcesOf(s.template, 'AWS::Events::Rule').filter(([, r]) =>
      list(r.Properties?.Targets as { Arn: unknown }[]).some(
        (t) => refOf(t.Arn) === fnId('executionSucceeded'),
      ),
    );
    expect(rules).toHaveLength(1);
    expect(rules[0]?.[1].Properties?.EventPattern).toEqual({
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: { stateMachineArn: [{ Ref: smId() }], status: ['SUCCEEDED'] },
    });
    // Its role: the notice markers, the alert topic and this state machine's history; nothing else.
    const actions = [...new Set(ofRole(roleId('executionSucceeded')).flatMap(actionsOf))];
    expect(actions).toContain('sns:Publish');
    expect(actions.filter((a) => a.startsWith('states:')).sort()).toEqual([
      'states:DescribeExecution',
      'states:GetExecutionHistory',
    ]);
    expect(actions.filter((a) => a.startsWith('s3:') || a.startsWith('batch:'))).toEqual([]);
  });

  it('only the execution-ended and notices Lambdas and the reconciler read executions (PrepareRun and the run control may describe them), and only this state machine’s', () => {
    const readers = [roleId('executionEnded'), roleId('approvalReconciler'), roleId('executionSucceeded')];
    for (const action of ['states:DescribeExecution', 'states:GetExecutionHistory']) {
      const granted = statements.filter((a) => actionsOf(a.statement).includes(action));
      // PrepareRun asks whether its own execution still runs once it has recorded the run.
      // `sweep stop` asks whether the sweep still runs before it cancels its trials.
      const expected =
        action === 'states:DescribeExecution'
          ? [...readers, roleId('prepareRun'), roleId('runControlHttp')]
          : readers;
      expect(granted.flatMap((a) => a.roles).sort(), action).toEqual(expected.sort());
      for (const a of granted) {
        const resource = JSON.stringify(list(a.statement.Resource as unknown[]));
        expect(resource).toContain(':execution:');
        // The state machine invokes PrepareRun: its grant names the state machine as configured
        // (a GetAtt would be a dependency cycle); the others name it by its attribute.
        if (a.roles.includes(roleId('prepareRun'))) {
          expect(a.roles).toEqual([roleId('prepareRun')]);
          expect(resource).toContain(':execution:mlcycle-lifecycle:*');
        } else expect(resource).toContain(`{"Fn::GetAtt":["${smId()}","Name"]},":*"`);
      }
    }
  });

  it('the execution-ended Lambda may use the table, publish alerts and read executions — and complete no task', () => {
    const actions = new Set(ofRole(roleId('executionEnded')).flatMap(actionsOf));
    for (const a of ['dynamodb:UpdateItem', 'dynamodb:Query', 'sns:Publish', 'states:GetExecutionHistory']) {
      expect(actions, a).toContain(a);
    }
    expect([...actions].filter((a) => a.startsWith('states:')).sort()).toEqual([
      'states:DescribeExecution',
      'states:GetExecutionHistory',
    ]);
    expect([...actions].filter((a) => a.startsWith('s3:'))).toEqual([]);
  });

  it('both are invoked asynchronously: failed invocations go to the dead-letter queue, and their errors alarm', () => {
    for (const name of ['executionEnded', 'approvalReconciler'] as const) {
      const configs = resourcesOf(s.template, 'AWS::Lambda::EventInvokeConfig').filter(
        ([, r]) => refOf(r.Properties?.FunctionName) === fnId(name),
      );
      expect(configs, name).toHaveLength(1);
      const alarms = resourcesOf(s.template, 'AWS::CloudWatch::Alarm').filter(([, r]) =>
        list(r.Properties?.Dimensions as { Value: unknown }[]).some((d) => refOf(d.Value) === fnId(name)),
      );
      expect(
        alarms.map(([, r]) => r.Properties?.MetricName),
        name,
      ).toEqual(['Errors']);
    }
  });
});

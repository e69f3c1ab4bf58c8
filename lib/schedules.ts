import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { HandlerName } from '../lambdas/contracts/handlers.js';
import { scheduleRuleName } from '../lambdas/contracts/names.js';
import type { RetrainSchedule } from '../lambdas/contracts/retrain-schedules.js';

/** A Lambda the contract says runs on a schedule (lambdas/contracts/handlers.ts `schedule`). */
export interface ScheduledFunction {
  /** Contract name, e.g. `approvalReminders`; the rule is named `<project>-<kebab-name>`. */
  readonly name: HandlerName;
  readonly fn: lambda.IFunction;
  /** EventBridge schedule expression, e.g. `rate(15 minutes)`. */
  readonly expression: string;
  readonly description: string;
}

export interface SchedulesProps {
  /** Prefix of rule names. */
  readonly project: string;
  /**
   * Invoked by each retrain rule with `{ "model": "<model>" }`: it starts the lifecycle through
   * the start service, which records the schedule as the requestor.
   */
  readonly retrainFunction: lambda.IFunction;
  /** One rule per entry (`retrainSchedules(config)`: the local scheduler runs the same list). */
  readonly retrains: readonly RetrainSchedule[];
  /**
   * One rule per function, invoking it with EventBridge's scheduled event (the daily retention
   * cleanup, approval reminders, the approval reconciler).
   * @default - none
   */
  readonly scheduledFunctions?: readonly ScheduledFunction[];
}

/**
 * EventBridge rules: a retrain per model on its schedule (through the function that starts the
 * lifecycle as the schedule), and the functions the handler contract schedules (retention
 * cleanup, approval reminders, the approval reconciler).
 */
export class Schedules extends Construct {
  readonly retrainRules: Readonly<Record<string, events.Rule>>;
  /** Rules of `scheduledFunctions`, by contract name. */
  readonly functionRules: Readonly<Record<string, events.Rule>>;

  constructor(scope: Construct, id: string, props: SchedulesProps) {
    super(scope, id);
    const rules: Record<string, events.Rule> = {};
    for (const r of props.retrains) {
      rules[r.model] = new events.Rule(this, `Retrain-${r.model}`, {
        ruleName: r.ruleName,
        description: `Retrain ${r.model} for ${r.stage}`,
        schedule: events.Schedule.expression(r.expression),
        targets: [
          new targets.LambdaFunction(props.retrainFunction, {
            event: events.RuleTargetInput.fromObject(r.event),
          }),
        ],
      });
    }
    this.retrainRules = rules;
    const functionRules: Record<string, events.Rule> = {};
    for (const f of props.scheduledFunctions ?? []) {
      functionRules[f.name] = new events.Rule(this, `Run-${f.name}`, {
        ruleName: scheduleRuleName(props.project, f.name),
        description: f.description,
        schedule: events.Schedule.expression(f.expression),
        targets: [new targets.LambdaFunction(f.fn)],
      });
    }
    this.functionRules = functionRules;
  }
}

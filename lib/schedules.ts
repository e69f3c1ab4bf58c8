import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { HandlerName } from '../lambdas/contracts/handlers.js';
import { scheduleRuleName } from '../lambdas/contracts/names.js';

/** One scheduled retrain: a model, its EventBridge expression and the stage it targets. */
export interface RetrainSchedule {
  readonly model: string;
  /** EventBridge schedule expression, e.g. `cron(0 3 ? * MON *)`. */
  readonly expression: string;
  /** The stage the retrain targets (for the rule's description; the function reads the config). */
  readonly stage: string;
}

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
  /** One rule per entry (models whose `schedule.enabled` is false are left out by the caller). */
  readonly retrains: readonly RetrainSchedule[];
  /** Applies the retention policy once a day. */
  readonly cleanupFunction: lambda.IFunction;
  /**
   * When the daily cleanup runs.
   * @default 04:00 UTC
   */
  readonly cleanupSchedule?: events.Schedule;
  /**
   * One rule per function, invoking it with EventBridge's scheduled event.
   * @default - none
   */
  readonly scheduledFunctions?: readonly ScheduledFunction[];
}

/**
 * EventBridge rules: a retrain per model on its schedule (through the function that starts the
 * lifecycle as the schedule), the daily retention run, and the
 * functions the handler contract schedules (approval reminders).
 */
export class Schedules extends Construct {
  readonly retrainRules: Readonly<Record<string, events.Rule>>;
  readonly cleanupRule: events.Rule;
  /** Rules of `scheduledFunctions`, by contract name. */
  readonly functionRules: Readonly<Record<string, events.Rule>>;

  constructor(scope: Construct, id: string, props: SchedulesProps) {
    super(scope, id);
    const rules: Record<string, events.Rule> = {};
    for (const r of props.retrains) {
      rules[r.model] = new events.Rule(this, `Retrain-${r.model}`, {
        ruleName: `${props.project}-retrain-${r.model}`,
        description: `Retrain ${r.model} for ${r.stage}`,
        schedule: events.Schedule.expression(r.expression),
        targets: [
          new targets.LambdaFunction(props.retrainFunction, {
            event: events.RuleTargetInput.fromObject({ model: r.model }),
          }),
        ],
      });
    }
    this.retrainRules = rules;
    this.cleanupRule = new events.Rule(this, 'DailyCleanup', {
      ruleName: `${props.project}-cleanup`,
      description: 'Apply the mlcycle retention policy',
      schedule: props.cleanupSchedule ?? events.Schedule.cron({ minute: '0', hour: '4' }),
      targets: [new targets.LambdaFunction(props.cleanupFunction)],
    });
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

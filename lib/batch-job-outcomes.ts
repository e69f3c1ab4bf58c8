import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { BATCH_JOB_END_STATUSES, BATCH_JOB_STATE_CHANGE } from '../lambdas/contracts/batch-jobs.js';

/** A Lambda the contract subscribes to the training queue's ended jobs (HandlerContract.onBatchJobEnded). */
export interface BatchJobSubscriber {
  /** Contract name; the rule is named `<project>-<name>`. */
  readonly name: string;
  readonly fn: lambda.IFunction;
}

export interface BatchJobOutcomesProps {
  /** Prefix of resource names. */
  readonly project: string;
  /** The training job queue: only its jobs' events are delivered. */
  readonly jobQueueArn: string;
  readonly subscribers: readonly BatchJobSubscriber[];
}

/**
 * How the lifecycle learns that a Batch job ended (lambdas/contracts/batch-jobs.ts): an
 * EventBridge rule per subscriber on "Batch Job State Change" events of the training queue whose
 * status is SUCCEEDED or FAILED. The batch-job-ended handler completes the waiting task.
 */
export class BatchJobOutcomes extends Construct {
  readonly rules: Readonly<Record<string, events.Rule>>;

  constructor(scope: Construct, id: string, props: BatchJobOutcomesProps) {
    super(scope, id);
    const rules: Record<string, events.Rule> = {};
    for (const s of props.subscribers) {
      rules[s.name] = new events.Rule(this, `On-${s.name}`, {
        ruleName: `${props.project}-${s.name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
        description: `mlcycle: ${s.name} on training-queue jobs that end ${BATCH_JOB_END_STATUSES.join(' or ')}`,
        eventPattern: {
          source: ['aws.batch'],
          detailType: [BATCH_JOB_STATE_CHANGE],
          detail: { jobQueue: [props.jobQueueArn], status: [...BATCH_JOB_END_STATUSES] },
        },
        // Retried for as long as a task may still wait for the job; a late duplicate finds the
        // task gone, which the handler ignores.
        targets: [new targets.LambdaFunction(s.fn, { retryAttempts: 185, maxEventAge: Duration.hours(24) })],
      });
    }
    this.rules = rules;
  }
}

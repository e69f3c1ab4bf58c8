import { z } from 'zod';

/** EventBridge's detail-type for Step Functions execution status changes (source `aws.states`). */
export const EXECUTION_STATUS_CHANGE = 'Step Functions Execution Status Change';

/** The statuses in which an execution ended without deploying: the execution-ended handler's events. */
export const EXECUTION_ENDED_STATUSES = ['FAILED', 'TIMED_OUT', 'ABORTED'] as const;
export type ExecutionEndedStatus = (typeof EXECUTION_ENDED_STATUSES)[number];
/** Every final status a handler may subscribe to (HandlerContract.onExecutionStatus). */
export const EXECUTION_FINAL_STATUSES = [...EXECUTION_ENDED_STATUSES, 'SUCCEEDED'] as const;
export type ExecutionFinalStatus = (typeof EXECUTION_FINAL_STATUSES)[number];

/**
 * The status-change event as EventBridge delivers it (the fields mlcycle reads; `input` is
 * omitted by Step Functions when it is too large, and error/cause exist only on failure).
 */
export const executionStatusChangeSchema = z.object({
  'detail-type': z.literal(EXECUTION_STATUS_CHANGE),
  source: z.literal('aws.states'),
  time: z.string().min(1),
  detail: z.object({
    executionArn: z.string().min(1),
    stateMachineArn: z.string().min(1),
    name: z.string().min(1),
    status: z.enum(EXECUTION_ENDED_STATUSES),
    startDate: z.number().nullish(),
    stopDate: z.number().nullish(),
    input: z.string().nullish(),
    error: z.string().nullish(),
    cause: z.string().nullish(),
  }),
});
export type ExecutionStatusChangeEvent = z.infer<typeof executionStatusChangeSchema>;

/**
 * The status-change event of an execution that SUCCEEDED (it deployed, or ended without anything
 * to deploy): the notices' cue, and the cleanup function's to apply retention to its model.
 * `output` is omitted by Step Functions when too large.
 */
export const executionSucceededSchema = executionStatusChangeSchema.extend({
  detail: executionStatusChangeSchema.shape.detail.extend({
    status: z.literal('SUCCEEDED'),
    output: z.string().nullish(),
  }),
});

/** An execution as the local engine keeps it: enough to build the event EventBridge would send. */
export interface EndedExecutionFacts {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly status: ExecutionFinalStatus;
  readonly startDate: number;
  readonly stopDate: number;
  readonly input: string;
  readonly error?: string;
  readonly cause?: string;
  /** The final state (JSON text) of an execution that succeeded. */
  readonly output?: string;
}

/** The event EventBridge delivers for an execution that ended; the local runtime sends the same. */
export function executionStatusChangeEvent(
  e: EndedExecutionFacts,
  where: { readonly region: string; readonly account: string; readonly id: string },
) {
  return {
    version: '0',
    id: where.id,
    'detail-type': EXECUTION_STATUS_CHANGE,
    source: 'aws.states',
    account: where.account,
    time: `${new Date(e.stopDate).toISOString().slice(0, 19)}Z`,
    region: where.region,
    resources: [e.executionArn],
    detail: {
      executionArn: e.executionArn,
      stateMachineArn: e.stateMachineArn,
      name: e.name,
      status: e.status,
      startDate: e.startDate,
      stopDate: e.stopDate,
      input: e.input,
      inputDetails: { included: true },
      output: e.output ?? null,
      outputDetails: e.output === undefined ? null : { included: true },
      error: e.error ?? null,
      cause: e.cause ?? null,
    },
  } as const;
}

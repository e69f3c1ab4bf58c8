import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';

/** What a handler is once wrapped: the function Lambda (or local/lambdas.ts, or a test) calls. */
export type LambdaHandler<E, R> = (event: E, context?: Context) => Promise<R>;

/**
 * Every Lambda handler is wrapped the same way: middy, with Powertools' logger middleware, so
 * each log line of the invocation carries the Lambda context (function, request id, cold start)
 * and a correlation id taken from the event; keys appended during an invocation end with it.
 *
 * `timeoutEarlyInMillis: 0`: middy would otherwise answer a TimeoutError just before the
 * context's deadline while the handler runs on; Lambda ends a late function itself, and the
 * embedded default must not fail a state the handler is still completing.
 *
 * No idempotency middleware (@aws-lambda-powertools/idempotency): the handlers Step Functions
 * or EventBridge may deliver twice claim their work in DynamoDB, in the same conditional write
 * that does it, which also holds beyond an idempotency record's expiry: Deploy records its
 * deployment key in the ledger entry (StageLedger.promoteOnce), Approve creates its request
 * conditionally (same id and token ⇒ the stored one), RecordFailure and ExecutionEnded claim
 * the failure's alert, the reconciler leases each owed callback, reminders mark the request
 * reminded, drift and baseline claim the upload's event. Read-only or overwriting tasks (Admit,
 * Gate, Evaluate, LoadCandidate) need none. PrepareRun and Register allocate a new run id or
 * version at each delivery, as their tests pin; making them reuse their execution's is a
 * behaviour change left to its own issue (a run or version found for the execution, not a
 * middleware record).
 */
export function lambdaHandler<E, R>(
  logger: Logger,
  correlationId: (event: E) => string | undefined,
  handle: (event: E, context: Context) => Promise<R>,
): LambdaHandler<E, R> {
  const wrapped = middy<E, R>(handle, { timeoutEarlyInMillis: 0 })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use({
      before: (request) => {
        const id = correlationId(request.event);
        if (id) logger.setCorrelationId(id);
        // Nothing returned: a value from a middy `before` would be taken as the response.
      },
    });
  return (event, context) => wrapped(event, context ?? ({} as Context));
}

type Loose = Record<string, unknown> | null | undefined;
const text = (value: unknown) => (typeof value === 'string' && value ? value : undefined);
const field = (value: unknown, key: string): unknown =>
  typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;

/**
 * Where each kind of event keeps its correlation id. Read before the event is validated, so each
 * tolerates any shape (and then gives none).
 */
export const correlationIds = {
  /**
   * A state-machine task, or the state machine's status-change event: the execution ARN (the
   * lifecycle state's `execution.arn`, a Parameters block's `executionArn`, the event's detail).
   */
  execution: (event: unknown): string | undefined =>
    text(field(field(event, 'execution'), 'arn')) ??
    text(field(event, 'executionArn')) ??
    text(field(field(event, 'detail'), 'executionArn')),
  /** API Gateway (HTTP API): the request id, as in API Gateway's own access logs. */
  http: (event: unknown): string | undefined => text(field(field(event, 'requestContext'), 'requestId')),
  /** An S3 notification: the key of the object(s) it announces (URL-encoded, as S3 sends it). */
  s3: (event: unknown): string | undefined => {
    const records = field(event, 'Records');
    if (!Array.isArray(records)) return undefined;
    const keys = records.map((r: Loose) => text(field(field(field(r, 's3'), 'object'), 'key')));
    return text(keys.filter(Boolean).join(' '));
  },
  /** An EventBridge event (a schedule): its id. */
  scheduled: (event: unknown): string | undefined => text(field(event, 'id')),
};

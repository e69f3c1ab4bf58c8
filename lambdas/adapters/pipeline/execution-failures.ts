import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionFailure } from '../dynamo-conditions.js';

/** Who records a failed execution: its RecordFailure state, or the handler of its end. */
export type FailureRecorder = 'recordFailure' | 'executionEnded';

/** One failed execution: what failed and why, and whether anyone was alerted. */
export interface ExecutionFailureRecord {
  readonly executionArn: string;
  readonly model?: string;
  readonly stage?: string;
  /** The failure path (`training`, `preparation`, …) or how the execution ended (`aborted`, …). */
  readonly kind: string;
  readonly summary: string;
  readonly detail: string;
  readonly runId?: string;
  readonly version?: string;
}

export interface StoredExecutionFailure extends ExecutionFailureRecord {
  readonly recordedBy: FailureRecorder;
  readonly recordedAt: string;
  readonly alertedAt?: string;
  readonly alertId?: string;
}

const key = (executionArn: string) => ({ PK: `EXECUTION#${executionArn}`, SK: 'FAILURE' });

/**
 * The record of each failed execution, which is also its alert marker: whoever records the
 * failure first claims the alert (for a short lease), publishes, and marks it alerted, so an
 * execution is alerted once whether RecordFailure ran, was retried, or never ran.
 *
 * RecordFailure runs before its execution ends and its attempts are sequential, so it may
 * always take over its own claim; the execution-ended handler runs after the end, so it may take
 * over RecordFailure's claim (that attempt is over) but not a live claim of another delivery of
 * the same event.
 */
export class ExecutionFailures {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async get(executionArn: string): Promise<StoredExecutionFailure | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: key(executionArn), ConsistentRead: true }),
    );
    if (!out.Item) return undefined;
    const { PK: _pk, SK: _sk, claimedBy: _c, alertLeaseUntil: _l, ...rest } = out.Item;
    return rest as StoredExecutionFailure;
  }

  /**
   * Records the failure and claims its alert. False when it was alerted already or another
   * recorder holds the claim: the caller then sends nothing.
   */
  async claimAlert(record: ExecutionFailureRecord, by: FailureRecorder, leaseSeconds = 60): Promise<boolean> {
    const now = this.clock();
    const fields = Object.entries({ ...record, recordedBy: by }).filter(
      ([k, v]) => v !== undefined && k !== 'executionArn',
    );
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(record.executionArn),
          UpdateExpression: `SET executionArn = :arn, recordedAt = if_not_exists(recordedAt, :now), claimedBy = :by, alertLeaseUntil = :lease, ${fields
            .map((_, i) => `#f${i} = :f${i}`)
            .join(', ')}`,
          ConditionExpression:
            'attribute_not_exists(alertedAt) AND (attribute_not_exists(claimedBy) OR claimedBy = :rf OR alertLeaseUntil <= :now)',
          ExpressionAttributeNames: Object.fromEntries(fields.map(([k], i) => [`#f${i}`, k])),
          ExpressionAttributeValues: {
            ...Object.fromEntries(fields.map(([, v], i) => [`:f${i}`, v])),
            ':arn': record.executionArn,
            ':now': now.toISOString(),
            ':by': by,
            ':rf': 'recordFailure',
            ':lease': new Date(now.getTime() + leaseSeconds * 1000).toISOString(),
          },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  /** The alert went out: nobody sends another for this execution. */
  async markAlerted(executionArn: string, alertId: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: key(executionArn),
        UpdateExpression: 'SET alertedAt = :now, alertId = :id REMOVE alertLeaseUntil',
        ExpressionAttributeValues: { ':now': this.clock().toISOString(), ':id': alertId },
      }),
    );
  }

  /** Publishing failed: give the claim back so a retry (or the other recorder) can alert. */
  async releaseAlert(executionArn: string, by: FailureRecorder): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(executionArn),
          UpdateExpression: 'REMOVE claimedBy, alertLeaseUntil',
          ConditionExpression: 'claimedBy = :by AND attribute_not_exists(alertedAt)',
          ExpressionAttributeValues: { ':by': by },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }
}

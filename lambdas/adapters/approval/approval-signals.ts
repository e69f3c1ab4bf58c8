import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TABLE_KEYS } from '../../contracts/table.js';
import type { ApprovalRequest } from '../../domain/approval/types.js';
import { queryAll } from '../dynamo-query.js';
import { k, SIGNAL_INDEX, strip, updateIf } from './approval-items.js';

/**
 * The callback a decided request owes Step Functions, as an outbox on the request item: the
 * decision that completes a request writes it owed (ApprovalStore.recordDecision, in the same
 * transaction), the deciding caller holds a lease while it delivers, and the reconciler claims
 * what is still owed after that. Every change is conditional on the signal still being owed.
 */
export class ApprovalSignals {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Decided requests whose callback is not confirmed yet (the reconciler's work list). */
  async listOwed(): Promise<ApprovalRequest[]> {
    const items = await queryAll(this.doc, this.tableName, {
      IndexName: TABLE_KEYS.gsi1.indexName,
      KeyConditionExpression: 'GSI1PK = :p',
      ExpressionAttributeValues: { ':p': SIGNAL_INDEX },
    });
    return items.map((i) => strip<ApprovalRequest>(i) as ApprovalRequest);
  }

  /**
   * Takes the signal over for `leaseSeconds` if nobody holds it: false while the deciding caller
   * (or another reconciler run) still does.
   */
  async claim(requestId: string, leaseSeconds: number): Promise<boolean> {
    const now = this.clock();
    return updateIf(this.doc, this.tableName, {
      Key: k.request(requestId),
      UpdateExpression: 'SET signalLeaseUntil = :lease',
      ConditionExpression:
        'signalStatus = :owed AND (attribute_not_exists(signalLeaseUntil) OR signalLeaseUntil <= :now)',
      ExpressionAttributeValues: {
        ':owed': 'pending',
        ':now': now.toISOString(),
        ':lease': new Date(now.getTime() + leaseSeconds * 1000).toISOString(),
      },
    });
  }

  /** Step Functions took the callback. */
  async delivered(requestId: string): Promise<boolean> {
    return updateIf(this.doc, this.tableName, {
      Key: k.request(requestId),
      UpdateExpression:
        'SET signalStatus = :done, signalSettledAt = :now ADD signalAttempts :one REMOVE GSI1PK, GSI1SK, signalLeaseUntil',
      ConditionExpression: 'signalStatus = :owed',
      ExpressionAttributeValues: {
        ':owed': 'pending',
        ':done': 'delivered',
        ':now': this.clock().toISOString(),
        ':one': 1,
      },
    });
  }

  /** A delivery attempt failed without an answer from Step Functions; the lease is released. */
  async failed(requestId: string, error: string): Promise<boolean> {
    const now = this.clock().toISOString();
    return updateIf(this.doc, this.tableName, {
      Key: k.request(requestId),
      UpdateExpression: 'SET signalLastError = :error, signalLeaseUntil = :now ADD signalAttempts :one',
      ConditionExpression: 'signalStatus = :owed',
      ExpressionAttributeValues: {
        ':owed': 'pending',
        ':error': error.slice(0, 500),
        ':now': now,
        ':one': 1,
      },
    });
  }

  /**
   * The execution no longer waits for the callback. An approved request is closed (the approval
   * took no effect: nothing deploys); a rejected one stays rejected (nothing deploys either).
   */
  async undeliverable(request: ApprovalRequest, note: string): Promise<boolean> {
    const closing = request.status === 'approved';
    return updateIf(this.doc, this.tableName, {
      Key: k.request(request.requestId),
      UpdateExpression: closing
        ? 'SET signalStatus = :gone, signalSettledAt = :now, #s = :closed, #decided = :was, outcomeNote = :note REMOVE GSI1PK, GSI1SK, signalLeaseUntil'
        : 'SET signalStatus = :gone, signalSettledAt = :now, outcomeNote = :note REMOVE GSI1PK, GSI1SK, signalLeaseUntil',
      ConditionExpression: 'signalStatus = :owed AND #s = :was',
      ExpressionAttributeNames: { '#s': 'status', ...(closing ? { '#decided': 'decided' } : {}) },
      ExpressionAttributeValues: {
        ':owed': 'pending',
        ':gone': 'undeliverable',
        ':now': this.clock().toISOString(),
        ':was': request.status,
        ':note': note,
        ...(closing ? { ':closed': 'closed' } : {}),
      },
    });
  }
}

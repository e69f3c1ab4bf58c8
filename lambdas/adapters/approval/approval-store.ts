import {
  type DynamoDBDocumentClient,
  GetCommand,
  type QueryCommandInput,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { TABLE_KEYS } from '../../contracts/table.js';
import type { ApprovalRequest, Decision, FinalStatus, TaskSignal } from '../../domain/approval/types.js';
import { ConflictError, NotFoundError } from '../../domain/errors.js';
import { cancellationCodes, isConditionFailure } from '../dynamo-conditions.js';
import { type Item, queryAll } from '../dynamo-query.js';
import { k, PENDING_INDEX, SIGNAL_INDEX, strip, updateIf } from './approval-items.js';
import { ApprovalSignals } from './approval-signals.js';

/**
 * What became of a decision's write: stored; refused because this approver decided before, or
 * because the request changed since the decider read it (another decision, or it completed or
 * closed: the caller reads it again and decides what to say); or cancelled by a concurrent
 * transaction on the same item (nothing was written: try again).
 */
export type DecisionWrite = 'recorded' | 'already-decided' | 'request-changed' | 'conflict';

/** The completion a decisive decision writes together with itself. */
export interface Completion {
  readonly status: 'approved' | 'rejected';
  readonly note: string;
  /** The callback owed to the execution, delivered after the write and by the reconciler. */
  readonly signal: TaskSignal;
  /** Until when the deciding caller alone delivers the signal. */
  readonly leaseUntil: string;
}

/**
 * Approval requests and decisions. A request and its lookup item are written together; a
 * decision is written in one transaction with the request item, on the condition that the
 * request is still pending and holds exactly the decisions the decider counted; the decision
 * that completes the request sets its final status and the callback it owes Step Functions in
 * that same transaction. So exactly one decision completes a request, nothing lands after it,
 * and an approved/rejected request always says whether its execution has been told.
 */
export class ApprovalStore {
  /** The callbacks decided requests owe Step Functions (see approval-signals.ts). */
  readonly signals: ApprovalSignals;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.signals = new ApprovalSignals(doc, tableName, clock);
  }

  /**
   * Stores a new request. Idempotent for a redelivered invocation of the same Approve attempt
   * (same id, same task token): returns false and keeps the stored one. A different request
   * under the same id is a conflict.
   */
  async create(request: ApprovalRequest): Promise<boolean> {
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  ...k.request(request.requestId),
                  ...request,
                  GSI1PK: PENDING_INDEX,
                  GSI1SK: `${request.createdAt}#${request.requestId}`,
                },
                ConditionExpression: 'attribute_not_exists(PK)',
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  ...k.lookup(request.model, request.version, request.stage),
                  requestId: request.requestId,
                },
              },
            },
          ],
        }),
      );
      return true;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      const existing = await this.get(request.requestId);
      if (existing && existing.taskToken === request.taskToken) return false;
      throw new ConflictError(`approval request ${request.requestId} already exists`, undefined, {
        cause: err,
      });
    }
  }

  async get(requestId: string): Promise<ApprovalRequest | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: k.request(requestId), ConsistentRead: true }),
    );
    return strip<ApprovalRequest>(out.Item);
  }

  async require(requestId: string): Promise<ApprovalRequest> {
    const found = await this.get(requestId);
    if (!found) throw new NotFoundError(`no approval request ${requestId}`);
    return found;
  }

  private queryAll(input: Omit<QueryCommandInput, 'TableName'>): Promise<Item[]> {
    return queryAll(this.doc, this.tableName, input);
  }

  /** Every decision on a request, oldest first (strongly consistent). */
  async decisions(requestId: string): Promise<Decision[]> {
    const items = await this.queryAll({
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :d)',
      ExpressionAttributeValues: { ':pk': `APPROVAL#${requestId}`, ':d': 'DECISION#' },
      ConsistentRead: true,
    });
    return items
      .map((i) => strip<Decision>(i) as Decision)
      .sort((a, b) => (a.decidedAt === b.decidedAt ? 0 : a.decidedAt < b.decidedAt ? -1 : 1));
  }

  /**
   * The request and its decisions, as a decider reads them before deciding. The decisions are
   * read after the request, and a decision is only written if the count it was made on is still
   * the stored one, so a decision made on a stale read is refused, never miscounted.
   */
  async snapshot(requestId: string): Promise<{ request: ApprovalRequest; decisions: Decision[] }> {
    const request = await this.require(requestId);
    return { request, decisions: await this.decisions(requestId) };
  }

  /**
   * Writes one decision, and the completion when it is decisive, in one transaction with the
   * request item: only while the request is pending, only once per approver, and only if the
   * request still holds the `counted` decisions the tally was made on.
   */
  async recordDecision(decision: Decision, counted: number, completion?: Completion): Promise<DecisionWrite> {
    const now = this.clock().toISOString();
    const values: Record<string, unknown> = {
      ':pending': 'pending',
      ':counted': counted,
      ':next': counted + 1,
    };
    let update = 'SET #n = :next';
    if (completion) {
      update +=
        ', #s = :to, completedAt = :now, outcomeNote = :note, #sig = :signal, signalStatus = :owed,' +
        ' signalAttempts = :zero, signalLeaseUntil = :lease, GSI1PK = :signals, GSI1SK = :sk';
      Object.assign(values, {
        ':to': completion.status,
        ':now': now,
        ':note': completion.note,
        ':signal': completion.signal,
        ':owed': 'pending',
        ':zero': 0,
        ':lease': completion.leaseUntil,
        ':signals': SIGNAL_INDEX,
        ':sk': `${now}#${decision.requestId}`,
      });
    }
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: { ...k.decision(decision.requestId, decision.approver), ...decision },
                ConditionExpression: 'attribute_not_exists(PK)',
              },
            },
            {
              Update: {
                TableName: this.tableName,
                Key: k.request(decision.requestId),
                UpdateExpression: update,
                // A request from before decisionCount existed has none: its first decision sets it.
                ConditionExpression: '#s = :pending AND (#n = :counted OR attribute_not_exists(#n))',
                ExpressionAttributeNames: {
                  '#s': 'status',
                  '#n': 'decisionCount',
                  ...(completion ? { '#sig': 'signal' } : {}),
                },
                ExpressionAttributeValues: values,
              },
            },
          ],
        }),
      );
      return 'recorded';
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      const [put, request] = cancellationCodes(err);
      if (put === 'ConditionalCheckFailed') return 'already-decided';
      if (request === 'ConditionalCheckFailed') return 'request-changed';
      return 'conflict';
    }
  }

  /**
   * Closes an approved request whose callback was delivered but whose execution then ended without
   * deploying (Deploy refused or failed; it was stopped): the approval is spent, and no later
   * Deploy — a redrive, a direct invocation — may use it.
   */
  async closeSpentApproval(request: ApprovalRequest, note: string): Promise<boolean> {
    return updateIf(this.doc, this.tableName, {
      Key: k.request(request.requestId),
      UpdateExpression: 'SET #s = :closed, #decided = :approved, outcomeNote = :note, closedAt = :now',
      ConditionExpression: '#s = :approved AND executionArn = :arn AND attribute_not_exists(GSI1PK)',
      ExpressionAttributeNames: { '#s': 'status', '#decided': 'decided' },
      ExpressionAttributeValues: {
        ':closed': 'closed',
        ':approved': 'approved',
        ':arn': request.executionArn,
        ':note': note,
        ':now': this.clock().toISOString(),
      },
    });
  }

  /** Closes a still-pending request whose execution ended: no decision can take effect any more. */
  async close(requestId: string, note: string): Promise<boolean> {
    return this.complete(requestId, 'closed', note);
  }

  /**
   * The requests an execution may still be waiting on: undecided ones, and decided ones whose
   * callback is not confirmed. (An execution has at most a few; both lists are short.)
   */
  async openForExecution(executionArn: string): Promise<ApprovalRequest[]> {
    const [pending, signals] = await Promise.all([this.listPending(), this.signals.listOwed()]);
    return [...pending, ...signals].filter((r) => r.executionArn === executionArn);
  }

  /**
   * Moves a pending request to a final status that owes Step Functions nothing (expired,
   * closed). Returns false when it was no longer pending.
   */
  async complete(
    requestId: string,
    status: Exclude<FinalStatus, 'approved' | 'rejected'>,
    note: string,
  ): Promise<boolean> {
    return updateIf(this.doc, this.tableName, {
      Key: k.request(requestId),
      UpdateExpression: 'SET #s = :to, completedAt = :now, outcomeNote = :note REMOVE GSI1PK, GSI1SK',
      ConditionExpression: '#s = :pending',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: {
        ':to': status,
        ':pending': 'pending',
        ':now': this.clock().toISOString(),
        ':note': note,
      },
    });
  }

  async findForVersion(model: string, version: string, stage: string): Promise<ApprovalRequest | undefined> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: k.lookup(model, version, stage),
        ConsistentRead: true,
      }),
    );
    const id = out.Item?.requestId;
    return typeof id === 'string' ? this.get(id) : undefined;
  }

  /** The state machine's timeout ended the wait: mark a still-pending request expired. */
  async expireForVersion(
    model: string,
    version: string,
    stage: string,
    reason: string,
  ): Promise<ApprovalRequest | undefined> {
    const request = await this.findForVersion(model, version, stage);
    if (!request) return undefined;
    if (await this.complete(request.requestId, 'expired', reason)) {
      return { ...request, status: 'expired', outcomeNote: reason };
    }
    return undefined;
  }

  async listPending(model?: string): Promise<ApprovalRequest[]> {
    const items = await this.queryAll({
      IndexName: TABLE_KEYS.gsi1.indexName,
      KeyConditionExpression: 'GSI1PK = :p',
      ExpressionAttributeValues: { ':p': PENDING_INDEX },
    });
    return items
      .map((i) => strip<ApprovalRequest>(i) as ApprovalRequest)
      .filter((r) => !model || r.model === model);
  }

  /** Marks a reminder as sent; false when one was already sent (so each request gets one). */
  async markReminded(requestId: string): Promise<boolean> {
    return updateIf(this.doc, this.tableName, {
      Key: k.request(requestId),
      UpdateExpression: 'SET remindedAt = :now',
      ConditionExpression: 'attribute_not_exists(remindedAt) AND #s = :pending',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':now': this.clock().toISOString(), ':pending': 'pending' },
    });
  }
}

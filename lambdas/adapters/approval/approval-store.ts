import {
  type DynamoDBDocumentClient,
  GetCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { TABLE_KEYS } from '../../contracts/table.js';
import { normalizeEmail } from '../../domain/approval/request.js';
import type { ApprovalRequest, Decision, FinalStatus } from '../../domain/approval/types.js';
import { ConflictError, NotFoundError } from '../../domain/errors.js';
import { type Item, queryAll } from '../dynamo-query.js';

const PENDING_INDEX = 'APPROVALS#PENDING';
const k = {
  request: (id: string) => ({ PK: `APPROVAL#${id}`, SK: 'REQUEST' }),
  decision: (id: string, approver: string) => ({
    PK: `APPROVAL#${id}`,
    SK: `DECISION#${normalizeEmail(approver)}`,
  }),
  lookup: (model: string, version: string, stage: string) => ({
    PK: `APPROVALFOR#${model}#${version}#${stage}`,
    SK: 'LOOKUP',
  }),
};

function isConditionFailure(err: unknown): boolean {
  const name = (err as Error).name;
  return name === 'ConditionalCheckFailedException' || name === 'TransactionCanceledException';
}

/** Per-item reasons of a cancelled transaction ('ConditionalCheckFailed', 'None', ...). */
function cancellationCodes(err: unknown): string[] {
  const reasons = (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return reasons.map((r) => r.Code ?? 'None');
}

function strip<T>(item: Item | undefined): T | undefined {
  if (!item) return undefined;
  const { PK: _a, SK: _b, GSI1PK: _c, GSI1SK: _d, ...rest } = item;
  return rest as T;
}

/** Why a decision could not be stored: the approver decided before, or the request is closed. */
export type DecisionRefusal = 'already-decided' | 'not-pending';

/**
 * Approval requests and decisions. A request and its lookup item are written together; each
 * decision is its own item, written only while the request is pending and only once per
 * approver; the request's completion is a conditional status change, so exactly one caller
 * completes it (and only that caller signals Step Functions).
 */
export class ApprovalStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: () => Date = () => new Date(),
  ) {}

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
      throw new ConflictError(`approval request ${request.requestId} already exists`);
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
   * Records one approver's decision in one transaction with a check that the request is still
   * pending: a decision never lands on a completed request, and an approver decides once.
   * Returns the refusal instead of throwing so the caller can say what was decided.
   */
  async putDecision(decision: Decision): Promise<DecisionRefusal | undefined> {
    // Two transactions touching the request item at the same instant can cancel each other
    // (TransactionConflict) on DynamoDB; neither was written, so retry with a little jitter.
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.tryPutDecision(decision);
      if (outcome !== 'conflict') return outcome;
      if (attempt >= 8) {
        throw new ConflictError(`another decision on ${decision.requestId} was being recorded; try again`);
      }
      await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
    }
  }

  private async tryPutDecision(decision: Decision): Promise<DecisionRefusal | 'conflict' | undefined> {
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              ConditionCheck: {
                TableName: this.tableName,
                Key: k.request(decision.requestId),
                ConditionExpression: '#s = :pending',
                ExpressionAttributeNames: { '#s': 'status' },
                ExpressionAttributeValues: { ':pending': 'pending' },
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: { ...k.decision(decision.requestId, decision.approver), ...decision },
                ConditionExpression: 'attribute_not_exists(PK)',
              },
            },
          ],
        }),
      );
      return undefined;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      const [request, put] = cancellationCodes(err);
      if (put === 'ConditionalCheckFailed') return 'already-decided';
      if (request === 'ConditionalCheckFailed') return 'not-pending';
      return 'conflict';
    }
  }

  /**
   * Moves a pending request to its final status. Returns false when another caller got there
   * first — the caller that gets true is the only one that may signal Step Functions.
   */
  async complete(requestId: string, status: FinalStatus, note: string): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
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
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
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
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: k.request(requestId),
          UpdateExpression: 'SET remindedAt = :now',
          ConditionExpression: 'attribute_not_exists(remindedAt) AND #s = :pending',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':now': this.clock().toISOString(), ':pending': 'pending' },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }
}

import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { TABLE_KEYS } from '../../contracts/table.js';
import type { ApprovalRequest, Decision, RequestStatus } from '../../domain/approval/types.js';
import { ConflictError, NotFoundError } from '../../domain/errors.js';

const PENDING_INDEX = 'APPROVALS#PENDING';
const k = {
  request: (id: string) => ({ PK: `APPROVAL#${id}`, SK: 'REQUEST' }),
  decision: (id: string, approver: string) => ({
    PK: `APPROVAL#${id}`,
    SK: `DECISION#${approver.toLowerCase()}`,
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

function strip<T>(item: Record<string, unknown> | undefined): T | undefined {
  if (!item) return undefined;
  const { PK: _a, SK: _b, GSI1PK: _c, GSI1SK: _d, expiresAtEpoch: _e, ...rest } = item;
  return rest as T;
}

/**
 * Approval requests and decisions. A request and its lookup item are written together; each
 * decision is its own item, conditional on not existing (one decision per approver), and the
 * request's completion is a conditional status change, so exactly one caller completes it.
 */
export class ApprovalStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async create(request: ApprovalRequest): Promise<void> {
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
    } catch (err) {
      if (isConditionFailure(err))
        throw new ConflictError(`approval request ${request.requestId} already exists`);
      throw err;
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

  async decisions(requestId: string): Promise<Decision[]> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :d)',
        ExpressionAttributeValues: { ':pk': `APPROVAL#${requestId}`, ':d': 'DECISION#' },
        ConsistentRead: true,
      }),
    );
    return (out.Items ?? [])
      .map((i) => strip<Decision>(i) as Decision)
      .sort((a, b) => (a.decidedAt < b.decidedAt ? -1 : 1));
  }

  /** Records one approver's decision; a second decision by the same approver is a conflict. */
  async putDecision(decision: Decision): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...k.decision(decision.requestId, decision.approver), ...decision },
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      );
    } catch (err) {
      if (isConditionFailure(err))
        throw new ConflictError(`${decision.approver} already decided on ${decision.requestId}`);
      throw err;
    }
  }

  /**
   * Moves a pending request to its final status. Returns false when another caller got there
   * first — the caller that gets true is the only one that may signal Step Functions.
   */
  async complete(
    requestId: string,
    status: Exclude<RequestStatus, 'pending'>,
    note: string,
  ): Promise<boolean> {
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
      new GetCommand({ TableName: this.tableName, Key: k.lookup(model, version, stage) }),
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
    if (await this.complete(request.requestId, 'expired', reason)) return { ...request, status: 'expired' };
    return undefined;
  }

  async listPending(model?: string): Promise<ApprovalRequest[]> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: TABLE_KEYS.gsi1.indexName,
        KeyConditionExpression: 'GSI1PK = :p',
        ExpressionAttributeValues: { ':p': PENDING_INDEX },
      }),
    );
    return (out.Items ?? [])
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

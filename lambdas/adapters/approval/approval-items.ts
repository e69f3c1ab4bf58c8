import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { normalizeEmail } from '../../domain/approval/request.js';
import { isConditionFailure } from '../dynamo-conditions.js';
import type { Item } from '../dynamo-query.js';

/**
 * The approval items (docs/registry-table.md): a request, its decisions and its lookup by
 * model, version and stage. A request sits in one GSI1 list while it is open: PENDING until it
 * is decided, then SIGNAL until its callback to Step Functions is settled.
 */
export const PENDING_INDEX = 'APPROVALS#PENDING';
/** Requests whose decision is taken and whose callback Step Functions has not confirmed yet. */
export const SIGNAL_INDEX = 'APPROVALS#SIGNAL';
export const k = {
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

export function strip<T>(item: Item | undefined): T | undefined {
  if (!item) return undefined;
  const { PK: _a, SK: _b, GSI1PK: _c, GSI1SK: _d, ...rest } = item;
  return rest as T;
}

/** A conditional update: false when its condition does not hold (nothing written). */
export async function updateIf(
  doc: DynamoDBDocumentClient,
  tableName: string,
  input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>,
): Promise<boolean> {
  try {
    await doc.send(new UpdateCommand({ TableName: tableName, ...input }));
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}

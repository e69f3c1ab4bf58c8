import type { DynamoDBDocumentClient, QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { type Item, queryAll } from '../dynamo-query.js';
import { keys } from './keys.js';

/** A registry item without its table keys and bookkeeping attributes. */
export function strip<T>(item: Item | undefined): T | undefined {
  if (!item) return undefined;
  const { PK: _pk, SK: _sk, GSI1PK: _g1, GSI1SK: _g2, entity: _e, ...rest } = item;
  return rest as T;
}

/**
 * The registry's table, as the registry adapters (runs, versions, stages and ledger, catalog)
 * share it: the client, the table name, the clock, and the queries within a model's partition.
 * Item design: docs/registry-table.md.
 */
export class RegistryTable {
  constructor(
    readonly doc: DynamoDBDocumentClient,
    readonly tableName: string,
    readonly clock: () => Date = () => new Date(),
  ) {}

  now(): string {
    return this.clock().toISOString();
  }

  queryAll(input: Omit<QueryCommandInput, 'TableName'>, max?: number): Promise<Item[]> {
    return queryAll(this.doc, this.tableName, input, max);
  }

  queryPrefix(model: string, prefix: string, newestFirst = false): Promise<Item[]> {
    return this.queryAll({
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.model(model), ':prefix': prefix },
      ScanIndexForward: !newestFirst,
    });
  }
}

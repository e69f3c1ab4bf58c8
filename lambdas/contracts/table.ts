/**
 * Key schema of the single registry table. The CDK construct and the local runtime both build
 * the table from this, so DynamoDB Local has exactly the production shape.
 * The item design (what lives under which keys) is documented in docs/registry-table.md.
 */
export const TABLE_KEYS = {
  partitionKey: 'PK',
  sortKey: 'SK',
  gsi1: { indexName: 'GSI1', partitionKey: 'GSI1PK', sortKey: 'GSI1SK' },
  /** Epoch seconds; DynamoDB TTL deletes dedupe markers and finished approval tokens. */
  ttlAttribute: 'expiresAt',
} as const;

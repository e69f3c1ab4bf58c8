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

/**
 * Partition-key prefixes of the item kinds (docs/registry-table.md). The stack scopes each
 * function's writes to the partitions its use case owns (`dynamodb:LeadingKeys`).
 */
export const PARTITIONS = {
  /** Everything about one model: versions, stages, ledger, runs, baseline, drift. */
  model: (model: string) => `MODEL#${model}`,
  /** Approval requests and their decisions (ids are random: the prefix is the narrowest scope). */
  approvals: 'APPROVAL#*',
  approvalLookups: 'APPROVALFOR#*',
  /** Start records: who asked for an execution (names are generated: the prefix is the narrowest scope). */
  starts: 'START#*',
  /** What became of an execution that failed: its failure record and alert marker. */
  executions: 'EXECUTION#*',
  /** Exactly-once markers of S3 event deliveries. */
  s3Events: 'S3EVENT#*',
  /** Once-per-event markers of notices (ids name their event: the prefix is the narrowest scope). */
  notices: 'NOTICE#*',
} as const;

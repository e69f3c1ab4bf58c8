import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ModelCatalog } from './catalog.js';
import { RegistryTable } from './registry-table.js';
import { RolloutStore } from './rollouts.js';
import { RunStore } from './runs.js';
import { StageLedger } from './stage-ledger.js';
import { VersionStore } from './versions.js';

/**
 * The model registry on DynamoDB, one adapter per responsibility over one table: runs,
 * versions (atomic semver allocation, status changes), stages and the promotion ledger, and
 * the catalog across models (list, stats), and rollouts. Item design: docs/registry-table.md.
 */
export class Registry {
  readonly runs: RunStore;
  readonly versions: VersionStore;
  readonly stages: StageLedger;
  readonly catalog: ModelCatalog;
  readonly rollouts: RolloutStore;

  constructor(doc: DynamoDBDocumentClient, tableName: string, clock: () => Date = () => new Date()) {
    const table = new RegistryTable(doc, tableName, clock);
    this.runs = new RunStore(table);
    this.versions = new VersionStore(table);
    this.stages = new StageLedger(table, this.versions);
    this.catalog = new ModelCatalog(table, this.versions, this.stages);
    this.rollouts = new RolloutStore(table, this.stages);
  }
}

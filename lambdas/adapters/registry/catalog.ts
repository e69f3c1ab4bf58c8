import { TABLE_KEYS } from '../../contracts/table.js';
import { isStageChange, type ModelSummary, type RegistryStats } from '../../domain/registry/types.js';
import { keys } from './keys.js';
import type { RegistryTable } from './registry-table.js';
import type { StageLedger } from './stage-ledger.js';
import type { VersionStore } from './versions.js';

/** Across models: the models index (GSI1) with what serves where, and the registry's counts. */
export class ModelCatalog {
  constructor(
    private readonly t: RegistryTable,
    private readonly versions: Pick<VersionStore, 'listVersions'>,
    private readonly stages: Pick<StageLedger, 'listStages' | 'history'>,
  ) {}

  async listModels(): Promise<ModelSummary[]> {
    const metas = await this.t.queryAll({
      IndexName: TABLE_KEYS.gsi1.indexName,
      KeyConditionExpression: 'GSI1PK = :index',
      ExpressionAttributeValues: { ':index': keys.modelsIndex() },
    });
    return Promise.all(
      metas.map(async (m) => {
        const model = String(m.model);
        const stages = await this.stages.listStages(model);
        return {
          model,
          latestVersion: String(m.latestVersion),
          versionCount: Number(m.versionCount ?? 0),
          createdAt: String(m.createdAt ?? ''),
          stages: Object.fromEntries(stages.map((s) => [s.stage, s.version])),
        };
      }),
    );
  }

  async stats(model?: string): Promise<RegistryStats> {
    const models = model ? [model] : (await this.listModels()).map((m) => m.model);
    const since = new Date(this.t.clock().getTime() - 7 * 86_400_000).toISOString();
    const stats: RegistryStats = {
      models: models.length,
      versionsByStatus: {},
      servingByStage: {},
      deploymentsLast7Days: 0,
      pendingPromotions: 0,
    };
    for (const m of models) {
      for (const v of await this.versions.listVersions(m)) {
        stats.versionsByStatus[v.status] = (stats.versionsByStatus[v.status] ?? 0) + 1;
        if (v.status === 'validating') stats.pendingPromotions++;
      }
      for (const s of await this.stages.listStages(m))
        stats.servingByStage[s.stage] = (stats.servingByStage[s.stage] ?? 0) + 1;
      stats.deploymentsLast7Days += (await this.stages.history(m)).filter(
        (e) => isStageChange(e) && e.at >= since,
      ).length;
    }
    return stats;
  }
}

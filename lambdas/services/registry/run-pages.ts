import { s3Uri } from '../../adapters/s3-objects.js';
import { METRICS_BY_TASK } from '../../contracts/config-gates.js';
import type { MlcycleConfig } from '../../contracts/config-schema.js';
import { comparisonPageKey, runPageKey } from '../../contracts/s3-layout.js';
import { compareRuns } from '../../domain/registry/run-comparison.js';
import { renderComparisonPage, renderRunPage } from '../../domain/registry/run-page.js';
import { comparable, epochsOf, type RunHistoryDeps, showRun } from './run-history.js';

export interface RunPagesDeps extends RunHistoryDeps {
  readonly config: MlcycleConfig;
  readonly clock?: () => Date;
}

/** Where a page was written. */
export interface WrittenPage {
  readonly bucket: string;
  readonly key: string;
  readonly uri: string;
}

/** The metric a model is judged on: its evaluation.primaryMetric, else its task's first. */
export function primaryMetricOf(config: MlcycleConfig, model: string): string {
  const m = config.models[model];
  return m ? (m.evaluation.primaryMetric ?? METRICS_BY_TASK[m.task][0] ?? 'auc') : 'auc';
}

async function put(deps: RunPagesDeps, key: string, html: string): Promise<WrittenPage> {
  await deps.objects.put({ bucket: deps.bucket, key }, html, 'text/html; charset=utf-8');
  return { bucket: deps.bucket, key, uri: s3Uri(deps.bucket, key) };
}

/** `runs show --page`: the run's page (facts, learning curves, parameters, metrics) under reports/. */
export async function writeRunPage(deps: RunPagesDeps, runId: string, model?: string): Promise<WrittenPage> {
  const run = await showRun(deps, runId, model);
  const html = renderRunPage(run, {
    primaryMetric: primaryMetricOf(deps.config, run.model),
    generatedAt: (deps.clock ?? (() => new Date()))().toISOString(),
  });
  return put(deps, runPageKey(run.model, run.runId), html);
}

/**
 * `runs compare --page`: runs or versions side by side (every learning curve with a path per
 * run, the tables with differences marked), under reports/ of the first one's model.
 */
export async function writeComparisonPage(
  deps: RunPagesDeps,
  refs: readonly string[],
  model?: string,
): Promise<WrittenPage> {
  const items = [];
  for (const ref of refs) items.push(await comparable(deps, ref, model));
  const rows = compareRuns(items);
  const curves = [];
  for (const item of items) {
    const m = item.facts.model;
    const r = item.facts.run;
    const epochs =
      typeof m === 'string' && typeof r === 'string'
        ? (await epochsOf(deps, { model: m, runId: r })).epochs
        : [];
    curves.push({ label: item.label, epochs });
  }
  const owner = String(items[0]?.facts.model ?? model ?? '');
  const html = renderComparisonPage(owner, curves, rows, {
    primaryMetric: primaryMetricOf(deps.config, owner),
    generatedAt: (deps.clock ?? (() => new Date()))().toISOString(),
  });
  return put(deps, comparisonPageKey(owner, refs), html);
}

import type { Registry } from '../../adapters/registry/registry.js';
import { type S3Objects, s3Uri } from '../../adapters/s3-objects.js';
import { HIGHER_IS_BETTER, type MetricName } from '../../contracts/config-gates.js';
import type { StartRecord } from '../../contracts/pipeline.js';
import { sweepPageKey } from '../../contracts/s3-layout.js';
import { NotFoundError } from '../../domain/errors.js';
import { renderSweepPage, type SweepPageInput, type SweepPageTrial } from '../../domain/sweeps/sweep-page.js';
import { trialRow } from '../../domain/sweeps/trial-row.js';
import { sweepRuns } from './check-trial.js';

/** One trial as its run recorded it (the fields are the page's: domain/sweeps/sweep-page.ts). */
export type SweepTrialStatus = SweepPageTrial;

/** A sweep's spec and its trials, and the one chosen (null until PickBest chose). */
export interface SweepStatus extends SweepPageInput {
  readonly best: SweepTrialStatus | null;
}

export interface SweepStatusDeps {
  readonly registry: Pick<Registry, 'runs'>;
  readonly starts: { get(executionName: string): Promise<StartRecord | undefined> };
}

/**
 * `sweep status`: a sweep's spec (its start record) and its trials as their runs recorded them,
 * in trial order: parameters, the measured metric, status (stopped ones with the rule's reason,
 * failed ones with the failure) and which one was chosen.
 */
export async function sweepStatus(deps: SweepStatusDeps, id: string): Promise<SweepStatus> {
  const record = await deps.starts.get(id);
  const spec = record?.request.sweep;
  if (!record || !spec) {
    throw new NotFoundError(
      `no sweep ${id}: \`mlcycle sweep list\` shows the sweeps (their execution names)`,
    );
  }
  const runs = await sweepRuns(deps.registry, record.request.model, id);
  const trials = runs.map((r) => trialRow(r, spec.metric)).sort((a, b) => a.trial - b.trial);
  return {
    id,
    model: record.request.model,
    stage: record.request.stage,
    requestedBy: record.requestedBy,
    metric: spec.metric,
    direction: spec.direction ?? (HIGHER_IS_BETTER[spec.metric as MetricName] ? 'max' : 'min'),
    rule: spec.earlyStopping.rule,
    planned: spec.trials,
    concurrency: spec.concurrency,
    trials,
    best: trials.find((t) => t.best) ?? null,
  };
}

/** `sweep status --page`: the sweep's page (trials over time, parameters against the metric, the table) under reports/. */
export async function writeSweepPage(
  deps: { readonly objects: S3Objects; readonly bucket: string; readonly clock?: () => Date },
  status: SweepStatus,
): Promise<{ bucket: string; key: string; uri: string }> {
  const key = sweepPageKey(status.model, status.id);
  const html = renderSweepPage(status, (deps.clock ?? (() => new Date()))().toISOString());
  await deps.objects.put({ bucket: deps.bucket, key }, html, 'text/html; charset=utf-8');
  return { bucket: deps.bucket, key, uri: s3Uri(deps.bucket, key) };
}

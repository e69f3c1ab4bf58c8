import { createHash } from 'node:crypto';

/**
 * The artifacts bucket's key layout, one function per kind of key. Handlers, services, the CLI,
 * the local runtime and the CDK grants build keys and prefixes only through these.
 */

/** The top-level prefixes, each with one purpose (and its own IAM grants). */
export const PREFIXES = {
  datasets: 'datasets/',
  runs: 'runs/',
  monitoring: 'monitoring/',
  reports: 'reports/',
  deployments: 'deployments/',
  /**
   * What clients may download, and nothing else: a copy of each served version's artifact under
   * an immutable, content-addressed key (downloadKey). The one prefix the CDN may read.
   */
  downloads: 'downloads/',
} as const;

/** Training data of a model: `datasets/<model>/…`. */
export const datasetsPrefix = (model: string) => `${PREFIXES.datasets}${model}/`;
export const datasetKey = (model: string, fileName: string) => `${datasetsPrefix(model)}${fileName}`;

/** Everything a run writes: `runs/<model>/<runId>/…`. Also where external artifacts are registered from. */
export const runsPrefix = (model: string) => `${PREFIXES.runs}${model}/`;
export const runPrefix = (model: string, runId: string) => `${runsPrefix(model)}${runId}/`;
export const runFileKey = (model: string, runId: string, name: string) => `${runPrefix(model, runId)}${name}`;

/** The files in a run's folder: the trainer writes these (docs/trainer-contract.md), Evaluate adds evaluation.json. */
export const RUN_FILES = {
  artifact: 'model.json',
  metrics: 'metrics.jsonl',
  holdout: 'holdout.csv',
  modelCard: 'model-card.json',
  trainingSummary: 'training-summary.json',
  evaluation: 'evaluation.json',
} as const;

/** Uploads that start monitoring: a baseline to profile, or a production batch to compare. */
export type MonitoringUpload = 'baseline' | 'batches';
export const monitoringPrefix = (model: string, kind: MonitoringUpload) =>
  `${PREFIXES.monitoring}${model}/${kind}/`;
export const monitoringKey = (model: string, kind: MonitoringUpload, fileName: string) =>
  `${monitoringPrefix(model, kind)}${fileName}`;
const MONITORING_KEY = new RegExp(`^${PREFIXES.monitoring}([a-z][a-z0-9-]{0,39})/(baseline|batches)/(.+)$`);
/** The model and kind of an upload's key (monitoringKey read back); undefined for any other key. */
export function parseMonitoringKey(
  key: string,
): { model: string; kind: MonitoringUpload; fileName: string } | undefined {
  const m = MONITORING_KEY.exec(key);
  return m ? { model: m[1] as string, kind: m[2] as MonitoringUpload, fileName: m[3] as string } : undefined;
}

/** What monitoring writes: profiles and drift reports of a model. */
export const reportsPrefix = (model: string) => `${PREFIXES.reports}${model}/`;
/** Where a model's baseline profiles live: each version's snapshot and the current copy. */
export const baselineProfilesPrefix = (model: string) => `${reportsPrefix(model)}profiles/`;
export const baselineProfileKey = (model: string) => `${baselineProfilesPrefix(model)}baseline.json`;
/** The baseline profile as a given upload made it (kept: a later baseline replaces the current one). */
export const baselineSnapshotKey = (model: string, batchId: string) =>
  `${baselineProfilesPrefix(model)}baseline-${batchId}.json`;
export const batchProfileKey = (model: string, batchId: string) =>
  `${reportsPrefix(model)}profiles/batch-${batchId}.json`;
/** Prefix of one drift check's outputs (`.json`, `.html`): sortable by time. */
export const driftReportBase = (model: string, at: Date, batchId: string) =>
  `${reportsPrefix(model)}drift/${at.toISOString().replace(/[:.]/g, '-')}-${batchId}`;
export const driftLatestKey = (model: string) => `${reportsPrefix(model)}drift/latest.json`;
/** A rollout's status page (`.html`) and its data (`.json`), rewritten after each aggregated batch. */
export const rolloutStatusBase = (model: string, rolloutId: string) =>
  `${reportsPrefix(model)}rollouts/${rolloutId}`;

/**
 * Pages the CLI writes, by kind: runs (`runs show --page`), comparisons (`runs compare --page`)
 * and sweeps (`sweep status --page`).
 */
export const RUN_PAGE_KINDS = ['runs', 'comparisons', 'sweeps'] as const;
/** Pages a person may open: the CLI's, and the rollout status pages the batch check writes. */
export const SERVED_PAGE_KINDS = [...RUN_PAGE_KINDS, 'rollouts'] as const;
export type RunPageKind = (typeof SERVED_PAGE_KINDS)[number];
/** The page of one sweep (its execution's name). */
export const sweepPageKey = (model: string, sweepId: string) =>
  `${reportsPrefix(model)}sweeps/${sweepId}.html`;
/** The page of one run. */
export const runPageKey = (model: string, runId: string) => `${reportsPrefix(model)}runs/${runId}.html`;
/** The page of a comparison: named by a hash of what was compared, in the order given. */
export const comparisonPageKey = (model: string, refs: readonly string[]) =>
  `${reportsPrefix(model)}comparisons/${createHash('sha256').update(refs.join('\n')).digest('hex').slice(0, 16)}.html`;
/** Every page the CLI writes (runs, comparisons, sweeps), as IAM object patterns (written as the operator). */
export const RUN_PAGE_PATTERNS = RUN_PAGE_KINDS.map((kind) => `${PREFIXES.reports}*/${kind}/*.html`);
/** A page's parts from its key (any SERVED_PAGE_KINDS), or undefined for any other key (what the local gateway serves). */
export function parseRunPageKey(key: string): { model: string; kind: RunPageKind; file: string } | undefined {
  const m =
    /^reports\/([a-z][a-z0-9-]{0,39})\/(runs|comparisons|sweeps|rollouts)\/([A-Za-z0-9][A-Za-z0-9._-]{0,127}\.html)$/.exec(
      key,
    );
  return m ? { model: m[1] as string, kind: m[2] as RunPageKind, file: m[3] as string } : undefined;
}

/** The client manifest of a stage. */
export const manifestKey = (model: string, stage: string) => `${PREFIXES.deployments}${model}/${stage}.json`;

/**
 * The served copy of an artifact: `downloads/<model>/<sha256>/<file>`. Content-addressed, so a key
 * never changes meaning (cacheable forever) and two versions with the same bytes share it. The
 * URL path clients download it by is the same string with a leading slash (contracts/routes.ts).
 */
export const downloadsPrefix = (model: string) => `${PREFIXES.downloads}${model}/`;
export const downloadKey = (model: string, sha256: string, fileName: string) =>
  `${downloadsPrefix(model)}${sha256}/${fileName}`;

/**
 * A contract run's files under runs/<model>/<runId>/ (docs/trainer-contract.md). `input/` is what
 * jobs may read; `evaluation/holdout-labels.csv` is the platform's alone (no job reads it);
 * `output/` is the train entry's MLCYCLE_OUTPUT_DIR as it left it; `model.tar.gz` is output/model/
 * packed (deterministic tar) with its sha256 recorded; `checkpoints/` survives a Spot retry.
 */
export const RUN_INPUTS = {
  train: 'input/train.csv',
  validation: 'input/validation.csv',
  holdoutFeatures: 'input/holdout-features.csv',
  holdoutLabels: 'evaluation/holdout-labels.csv',
  input: 'input/',
  output: 'output/',
  outputModel: 'output/model/',
  outputMetrics: 'output/metrics.jsonl',
  outputModelCard: 'output/model-card.json',
  outputReportedMetrics: 'output/reported-metrics.json',
  /**
   * output/metrics.jsonl as it grows, copied while the Train job runs (a sweep trial's, for its
   * early stopping): the checkpoint-sync sidecar on AWS, the local runner on the embedded default.
   */
  progressMetrics: 'progress/metrics.jsonl',
  modelArchive: 'model.tar.gz',
  checkpoints: 'checkpoints/',
  predictions: 'evaluation/predictions.jsonl',
  evaluation: 'evaluation.json',
} as const;
export type RunInput = keyof typeof RUN_INPUTS;

const PROGRESS_KEY = new RegExp(
  `^${PREFIXES.runs}([a-z][a-z0-9-]{0,39})/([A-Za-z0-9][A-Za-z0-9._-]{0,127})/${RUN_INPUTS.progressMetrics.replaceAll('.', '\\.')}$`,
);
/** The model and run of a training progress key (runs/<model>/<runId>/progress/metrics.jsonl). */
export function parseProgressKey(key: string): { model: string; runId: string } | undefined {
  const m = PROGRESS_KEY.exec(key);
  return m ? { model: m[1] as string, runId: m[2] as string } : undefined;
}
export const runInputKey = (model: string, runId: string, file: RunInput) =>
  runFileKey(model, runId, RUN_INPUTS[file]);
/** The same file under a run's prefix URI (s3://bucket/runs/<model>/<runId>/). */
export const runInputUri = (runUri: string, file: RunInput) =>
  `${runUri.endsWith('/') ? runUri : `${runUri}/`}${RUN_INPUTS[file]}`;

/**
 * Deploy's smoke test of a contract artifact, per execution, under the run that trained the
 * version: the sample rows PrepareSmoke wrote and what the predict entry answered on them.
 */
export const SMOKE_FILES = {
  prefix: 'smoke/',
  features: (executionName: string) => `smoke/${executionName}/features.csv`,
  predictions: (executionName: string) => `smoke/${executionName}/predictions.jsonl`,
} as const;

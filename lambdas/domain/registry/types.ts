import type { Metrics } from '../../contracts/pipeline.js';
import type { SweepRules } from '../../contracts/sweep.js';
import type { Bump } from './semver.js';
import type { VersionStatus } from './status.js';

/**
 * `skipped`: PrepareRun found nothing new to train on (see domain/pipeline/retrain-skip.ts);
 * `cancelled`: someone allowed stopped it (`runs cancel`), see `RunRecord.cancelled`.
 * A sweep's trials also end `stopped` (its early-stopping rule said so, `sweep.stopped` says
 * why) or `evaluated` (measured, but another trial was chosen).
 */
export type RunStatus =
  | 'training'
  | 'evaluating'
  | 'registered'
  | 'succeeded'
  | 'failed'
  | 'skipped'
  | 'cancelled'
  | 'stopped'
  | 'evaluated';

/** Every run status, in the order a run moves through them (a sweep's trials end stopped or evaluated). */
export const RUN_STATUSES: readonly RunStatus[] = [
  'training',
  'evaluating',
  'registered',
  'succeeded',
  'failed',
  'skipped',
  'cancelled',
  'stopped',
  'evaluated',
];

/** A run in one of these has a running execution: it can still be cancelled (or fail). */
export const ACTIVE_RUN_STATUSES: readonly RunStatus[] = ['training', 'evaluating', 'registered'];

/** A run that is one trial of a sweep (`mlcycle sweep start`). */
export interface RunSweepTrial {
  /** The sweep's id: its execution's name. */
  id: string;
  trial: number;
  /**
   * The sweep's early-stopping rule, recorded by PrepareRun from the admitted plan: what the
   * watcher of the trial's training progress applies (never anything the job writes).
   */
  earlyStopping?: SweepRules['earlyStopping'];
  /** Why the early-stopping rule stopped it (status `stopped`). */
  stopped?: string;
  /** Set when it was stopped while training: the epochs it had trained when its job was terminated. */
  stoppedAtEpoch?: number;
  /**
   * The last epoch the early-stopping rule judged it at: the last rung (or epoch) it passed, or
   * the one it was stopped at. Never judged again up to there (domain/sweeps/early-stopping.ts).
   */
  judgedThrough?: number;
  /** Seconds from the run's start to the end of its training job (the sweep's overhead figures). */
  trainingSeconds?: number;
  /** Set on the trial PickBest chose. */
  best?: boolean;
  /** On the chosen trial: the metric and direction that chose it (the approval page's table). */
  chosenBy?: { metric: string; direction: 'max' | 'min' };
}

/** A sweep trial as `runs show` and the run page tell it: which, whether chosen, why stopped. */
export interface SweepOfRun {
  readonly id: string;
  readonly trial: number;
  readonly best: boolean;
  readonly stopped: string | null;
}

/** One pipeline run (experiment tracking): what was asked, on which data, and how it ended. */
export interface RunRecord {
  model: string;
  runId: string;
  stage: string;
  status: RunStatus;
  trigger: string;
  /** The lifecycle execution that runs it. */
  executionArn?: string;
  requestedBy: string;
  reason: string;
  datasetUri: string;
  hyperparameters: Record<string, string | number | boolean>;
  /** The `--set` / job-file overrides requestedBy gave (already applied to hyperparameters). */
  overrides?: Record<string, string | number | boolean>;
  startedAt: string;
  finishedAt?: string;
  version?: string;
  metrics?: Partial<Metrics>;
  failure?: { kind: string; error: string; cause: string; logs?: string };
  /** The training job's logs: a CloudWatch console link on AWS, the log file locally. */
  logs?: string;
  /** Why a `skipped` run did not train: the dataset hash it shares with the serving version. */
  skipped?: { reason: string; datasetSha256: string; servingVersion: string };
  /** Who stopped a `cancelled` run, when, and why (`runs cancel`). */
  cancelled?: { by: string; at: string; reason: string };
  /** Set when the run is one trial of a sweep. */
  sweep?: RunSweepTrial;
}

export interface Lineage {
  parentVersion: string | null;
  datasetUri: string;
  datasetSha256: string;
  codeVersion: string;
  runId: string;
  hyperparameters: Record<string, string | number | boolean>;
  framework: string;
  artifactUri: string;
  artifactSha256: string;
  author: string;
  modelCardUri?: string;
}

export interface StatusChange {
  from: VersionStatus | null;
  to: VersionStatus;
  at: string;
  reason: string;
  actor: string;
}

export interface VersionRecord {
  model: string;
  version: string;
  status: VersionStatus;
  /** Measured by mlcycle on a holdout it kept; the only metrics gates use. */
  metrics: Partial<Metrics>;
  /** What the registrant said (an artifact registered from outside); shown, never gated on. */
  reportedMetrics?: Readonly<Record<string, number>>;
  lineage: Lineage;
  createdAt: string;
  statusHistory: StatusChange[];
}

export interface RegisterVersionInput {
  model: string;
  /** Either a part to bump from the highest allocated version, or an explicit version. */
  bump?: Bump;
  version?: string;
  lineage: Lineage;
  metrics: Partial<Metrics>;
  reportedMetrics?: Readonly<Record<string, number>>;
  status?: VersionStatus;
}

export interface StagePointer {
  model: string;
  stage: string;
  version: string;
  ledgerSeq: number;
  since: string;
}

/**
 * `promote`, `rollback` and `demote` move a stage; `reject` records a promotion the approvers
 * refused, and `rollout` an event of a rollout on the stage (start, ramp, abort, …), so the
 * ledger tells every decision on a stage and not only the ones that moved it.
 */
export type LedgerAction = 'promote' | 'rollback' | 'demote' | 'reject' | 'rollout';
export type StageChangeAction = Exclude<LedgerAction, 'reject' | 'rollout'>;

/** Whether an entry moved the stage (`reject` and `rollout` entries leave it where it was). */
export const isStageChange = (e: Pick<LedgerEntry, 'action'>): boolean =>
  e.action !== 'reject' && e.action !== 'rollout';

/** What a `rollout` ledger entry records (its evidence's `rollout`). */
export interface RolloutLedgerEvent {
  event: 'start' | 'ramp' | 'abort' | 'auto-abort' | 'promoted' | 'superseded';
  rolloutId: string;
  /** The variants in force after the event (canary first, control last, basis points). */
  variants: { name: string; version: string; weight: number }[];
  /** The decision an automatic abort acted on. */
  decision?: unknown;
}

/**
 * The stage changes in force in a ledger history (newest first, as StageLedger.history returns
 * it): the newest change of each stage. Cut the history at time T and these are what served
 * each stage then.
 */
export function inForce(newestFirst: readonly LedgerEntry[]): LedgerEntry[] {
  const seen = new Set<string>();
  return newestFirst.filter((e) => isStageChange(e) && !seen.has(e.stage) && seen.add(e.stage));
}

/**
 * An append-only record of one decision on a stage. For a stage change, `seq` is its place in
 * the stage's chain (the pointer's `ledgerSeq` is the last one); a `reject` entry carries the
 * `seq` of the change in force when it was refused and is keyed after it.
 */
export interface LedgerEntry {
  model: string;
  stage: string;
  seq: number;
  action: LedgerAction;
  fromVersion: string | null;
  toVersion: string;
  actor: string;
  reason: string;
  at: string;
  evidence: {
    gate?: unknown;
    approvals?: unknown;
    validation?: unknown;
    /** The approval request that authorised the change (an approval deploys once). */
    requestId?: string;
    /** The deployment this entry is, written by promoteOnce (see Deploy's deploymentKey). */
    idempotencyKey?: string;
    /** On a `rollout` entry: the event. */
    rollout?: RolloutLedgerEvent;
  };
}

export interface PromoteInput {
  model: string;
  stage: string;
  version: string;
  actor: string;
  reason: string;
  action: StageChangeAction;
  evidence?: LedgerEntry['evidence'];
}

export interface ModelSummary {
  model: string;
  latestVersion: string;
  versionCount: number;
  createdAt: string;
  stages: Record<string, string>;
}

export interface RegistryStats {
  models: number;
  versionsByStatus: Partial<Record<VersionStatus, number>>;
  servingByStage: Record<string, number>;
  deploymentsLast7Days: number;
  pendingPromotions: number;
}

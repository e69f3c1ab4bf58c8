import type { NoticeLevel } from '../../contracts/config-notices.js';

/** The events that close the loop: what changed, or chose not to, without anyone watching. */
export type NoticeKind = 'deployed' | 'rolled-back' | 'retrain-skipped' | 'rollout-ended' | 'sweep-finished';

/** One notice: sent at most once per `id` (the event's own identity, e.g. its ledger entry). */
export interface Notice {
  readonly id: string;
  readonly kind: NoticeKind;
  readonly level: NoticeLevel;
  readonly model: string;
  readonly subject: string;
  readonly text: string;
}

/** Where a notice points: the model's status (GET /status/<model>) and, for a stage change, its manifest. */
export interface NoticeLinks {
  readonly status: string;
  readonly manifest?: string;
}

const lines = (...xs: (string | false | null | undefined)[]) => xs.filter(Boolean).join('\n');
const linkLines = (links: NoticeLinks) =>
  lines(`Status: ${links.status}`, links.manifest && `Client manifest: ${links.manifest}`);

export function deployedNotice(
  e: {
    readonly model: string;
    readonly stage: string;
    readonly version: string;
    readonly previousVersion: string | null;
    readonly ledgerSeq: number;
    readonly requestedBy: string;
    readonly reason: string;
    readonly approvedBy: readonly string[];
    /** A newer change moved the stage before this one published: it does not serve now. */
    readonly supersededBy?: { readonly version: string; readonly ledgerSeq: number } | null;
  },
  links: NoticeLinks,
): Notice {
  const from = e.previousVersion ? ` (was ${e.previousVersion})` : ' (its first version)';
  return {
    id: `deployed:${e.model}:${e.stage}:${e.ledgerSeq}`,
    kind: 'deployed',
    level: 'info',
    model: e.model,
    subject: `[mlcycle] ${e.model} ${e.version} deployed to ${e.stage}`,
    text: lines(
      `${e.model} ${e.version} now serves ${e.stage}${from}: ledger entry #${e.ledgerSeq}.`,
      `Requested by ${e.requestedBy}${e.reason ? ` (${e.reason})` : ''}.`,
      e.approvedBy.length ? `Approved by ${e.approvedBy.join(', ')}.` : 'No approval was required.',
      e.supersededBy &&
        `A newer change (#${e.supersededBy.ledgerSeq}, ${e.supersededBy.version}) moved ${e.stage} since: ${e.supersededBy.version} serves it now.`,
      linkLines(links),
    ),
  };
}

export function rolledBackNotice(
  e: {
    readonly model: string;
    readonly stage: string;
    readonly fromVersion: string | null;
    readonly toVersion: string;
    readonly ledgerSeq: number;
    readonly actor: string;
    readonly reason: string;
  },
  links: NoticeLinks,
): Notice {
  return {
    id: `rolled-back:${e.model}:${e.stage}:${e.ledgerSeq}`,
    kind: 'rolled-back',
    level: 'warning',
    model: e.model,
    subject: `[mlcycle] ${e.model} ${e.stage} rolled back to ${e.toVersion}`,
    text: lines(
      `${e.actor} rolled ${e.stage} of ${e.model} back from ${e.fromVersion ?? '(nothing)'} to ${e.toVersion}: ledger entry #${e.ledgerSeq}.`,
      `Reason: ${e.reason}`,
      linkLines(links),
    ),
  };
}

export function retrainSkippedNotice(
  e: {
    readonly model: string;
    readonly stage: string;
    readonly executionName: string;
    readonly requestedBy: string;
    /** Why PrepareRun skipped it (the RetrainSkipped cause: the dataset and version it matched). */
    readonly cause: string;
  },
  links: NoticeLinks,
): Notice {
  return {
    id: `retrain-skipped:${e.executionName}`,
    kind: 'retrain-skipped',
    level: 'info',
    model: e.model,
    subject: `[mlcycle] ${e.model} retrain for ${e.stage} skipped: nothing new to train on`,
    text: lines(
      `The run ${e.executionName} (requested by ${e.requestedBy}) did not train: ${e.cause}`,
      'Nothing changed. `mlcycle pipeline start --force` trains anyway.',
      linkLines(links),
    ),
  };
}

/**
 * A rollout ended: promoted (the canary serves the stage), aborted by someone, aborted by its
 * guardrails (a warning: someone should look at why), or superseded by another stage change.
 */
export function rolloutEndedNotice(
  e: {
    readonly model: string;
    readonly stage: string;
    readonly rolloutId: string;
    readonly canaryVersion: string;
    readonly controlVersion: string;
    readonly kind: 'abort' | 'auto-abort' | 'promoted' | 'superseded';
    readonly actor: string;
    readonly reason: string;
  },
  links: NoticeLinks,
): Notice {
  const what = {
    abort: `aborted by ${e.actor}: ${e.controlVersion} serves every player again`,
    'auto-abort': `aborted by its guardrails: ${e.controlVersion} serves every player again`,
    promoted: `ended: ${e.canaryVersion} was promoted and serves every player`,
    superseded: 'ended: another change moved the stage',
  }[e.kind];
  return {
    id: `rollout-ended:${e.model}:${e.rolloutId}`,
    kind: 'rollout-ended',
    level: e.kind === 'promoted' ? 'info' : 'warning',
    model: e.model,
    subject: `[mlcycle] ${e.model} ${e.stage} rollout of ${e.canaryVersion} ${e.kind === 'promoted' ? 'promoted' : e.kind === 'superseded' ? 'ended' : 'aborted'}`,
    text: lines(
      `The rollout ${e.rolloutId} of ${e.model} ${e.canaryVersion} against ${e.controlVersion} on ${e.stage} was ${what}.`,
      `Reason: ${e.reason}`,
      linkLines(links),
    ),
  };
}

/** What a sweep's final state says of its trials (PickBest's `sweepResult`). */
export interface SweepOutcome {
  readonly id: string;
  readonly metric: string;
  readonly best: number;
  readonly trials: readonly { index: number; status: string; value: number | null }[];
}

/**
 * A sweep ended by deploying its best trial: the deploy notice, told as the end of the sweep
 * (once per sweep), with how the trials ended.
 */
export function sweepFinishedNotice(
  deployed: Notice,
  sweep: SweepOutcome,
  version: string,
  stage: string,
): Notice {
  const count = (status: string) => sweep.trials.filter((t) => t.status === status).length;
  const cancelled = count('cancelled');
  const best = sweep.trials.find((t) => t.index === sweep.best);
  const value = typeof best?.value === 'number' ? ` (${sweep.metric} ${best.value.toFixed(4)})` : '';
  return {
    ...deployed,
    id: `sweep-finished:${sweep.id}`,
    kind: 'sweep-finished',
    subject: `[mlcycle] ${deployed.model} sweep finished: trial #${sweep.best}${value} deployed to ${stage} as ${version}`,
    text: lines(
      `The sweep ${sweep.id} ran ${sweep.trials.length} trials: ${count('evaluated')} evaluated, ${count('stopped')} stopped early, ${count('failed')} failed${cancelled ? `, ${cancelled} cancelled` : ''}; trial #${sweep.best}${value} was the best by the platform's measurement.`,
      deployed.text,
    ),
  };
}

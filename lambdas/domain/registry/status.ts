import { IllegalTransitionError } from '../errors.js';

export const VERSION_STATUSES = [
  'training',
  'validating',
  'ready',
  'rejected',
  'failed',
  'deprecated',
  'archived',
] as const;
export type VersionStatus = (typeof VERSION_STATUSES)[number];

/**
 * The legal moves of a version's status. `ready` means it passed its gates and approvals for at
 * least one stage; `deprecated` can be reinstated; `archived` is final.
 */
export const TRANSITIONS: Readonly<Record<VersionStatus, readonly VersionStatus[]>> = {
  training: ['validating', 'failed'],
  validating: ['ready', 'rejected', 'failed'],
  ready: ['deprecated', 'archived'],
  rejected: ['archived'],
  failed: ['archived'],
  deprecated: ['ready', 'archived'],
  archived: [],
};

export function canTransition(from: VersionStatus, to: VersionStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function assertTransition(
  model: string,
  version: string,
  from: VersionStatus,
  to: VersionStatus,
): void {
  if (!canTransition(from, to)) {
    const allowed = TRANSITIONS[from];
    throw new IllegalTransitionError(
      `${model} ${version} cannot go from ${from} to ${to}; from ${from} it can go to ${allowed.length ? allowed.join(', ') : 'nothing (final)'}`,
    );
  }
}

/** Statuses from which a version may be promoted to (or rolled back onto) a stage. */
export const SERVABLE: readonly VersionStatus[] = ['validating', 'ready'];

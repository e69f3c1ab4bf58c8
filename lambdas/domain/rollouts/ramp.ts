import { ROLLOUT_BUCKETS, type RolloutVariant } from '../../contracts/rollout.js';
import { ValidationError } from '../errors.js';
import { bucketRanges } from './assignment.js';

/**
 * Whether a proposed weight change may keep the rollout id (a ramp) or needs a new rollout.
 *
 * A ramp keeps the same variants (names and versions, in the same order, control last) and may
 * only hand control buckets to other variants: every bucket a non-control variant owned before it
 * still owns after. With consecutive ranges that means each non-control variant's range contains
 * its old one. For a canary (listed first) this is simply "the canary's weight only grows";
 * blue-green is the ramp 0 → 10000. Anything else (shrinking a canary, swapping versions,
 * reordering, adding a variant) would move players who already had a variant, so it must start a
 * new rollout with a new id (and a fresh assignment).
 */
export type RampCheck = { ok: true } | { ok: false; reason: string };

export function checkRamp(
  current: readonly RolloutVariant[],
  proposed: readonly RolloutVariant[],
): RampCheck {
  const total = proposed.reduce((s, v) => s + v.weight, 0);
  if (total !== ROLLOUT_BUCKETS) {
    return { ok: false, reason: `proposed weights sum to ${total} basis points, not ${ROLLOUT_BUCKETS}` };
  }
  const describe = (vs: readonly RolloutVariant[]) => vs.map((v) => `${v.name}=${v.version}`).join(', ');
  if (describe(current) !== describe(proposed)) {
    return {
      ok: false,
      reason: `variants change from [${describe(current)}] to [${describe(proposed)}]: start a new rollout (new id) to change variants or their order`,
    };
  }
  const before = bucketRanges(current);
  const after = bucketRanges(proposed);
  for (let i = 0; i < before.length - 1; i++) {
    const b = before[i];
    const a = after[i];
    if (!a || !b) continue;
    if (b.to > b.from && (a.from > b.from || a.to < b.to)) {
      return {
        ok: false,
        reason:
          `variant ${b.name} would move from buckets [${b.from}, ${b.to}) to [${a.from}, ${a.to}), taking it away from players who had it: ` +
          'a ramp may only grow a variant at the control’s expense; start a new rollout (new id) to shrink or rebalance',
      };
    }
  }
  return { ok: true };
}

/** The weights of a two-variant canary at `canaryBasisPoints` (canary first, control last). */
export function canaryWeights(
  canary: { name: string; version: string },
  control: { name: string; version: string },
  canaryBasisPoints: number,
): RolloutVariant[] {
  if (!Number.isInteger(canaryBasisPoints) || canaryBasisPoints < 0 || canaryBasisPoints > ROLLOUT_BUCKETS) {
    throw new ValidationError(
      `canary share ${canaryBasisPoints} is not a whole number of basis points in [0, ${ROLLOUT_BUCKETS}]`,
    );
  }
  return [
    { ...canary, weight: canaryBasisPoints },
    { ...control, weight: ROLLOUT_BUCKETS - canaryBasisPoints },
  ];
}

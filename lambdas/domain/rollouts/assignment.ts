import { ROLLOUT_BUCKETS, type RolloutVariant } from '../../contracts/rollout.js';
import { fmix32, fnv1a32 } from '../hash32.js';

/**
 * The assignment rule of a rollout (contracts/rollout.ts has the published definition):
 * bucket = fmix32(FNV-1a-32(UTF-8 of `${rolloutId}:${playerId}`)) mod 10000, and variants take
 * consecutive bucket ranges in their listed order, so a canary listed first owns [0, w) and
 * growing w only ever moves players from the control into the canary.
 *
 * Why this hash: FNV-1a is a dozen lines in any language (C# in Unity, Kotlin, Swift, Lua) with
 * no library, and is what GrowthBook's SDKs use. Alone, its low k output bits depend only on the
 * low k bits of each byte (multiplication carries upwards only), and 10000 = 16 · 625, so ids that
 * differ in high nibbles share bucket mod 16; murmur3's 32-bit finaliser mixes every bit into
 * every bit in five more lines. The modulo bias of 2^32 mod 10000 is 2·10⁻⁶ per bucket.
 */

const encoder = new TextEncoder();

export { fmix32, fnv1a32 };

/** The key the hash reads: UTF-8 of `${rolloutId}:${playerId}` (lone surrogates become U+FFFD). */
export function assignmentKey(rolloutId: string, playerId: string): Uint8Array {
  return encoder.encode(`${rolloutId}:${playerId}`);
}

/** The player's bucket in [0, 10000) for this rollout. */
export function bucketOf(rolloutId: string, playerId: string): number {
  return fmix32(fnv1a32(assignmentKey(rolloutId, playerId))) % ROLLOUT_BUCKETS;
}

export interface BucketRange {
  name: string;
  version: string;
  /** Inclusive start. */
  from: number;
  /** Exclusive end. */
  to: number;
}

/** Each variant's bucket range [from, to), in listed order. */
export function bucketRanges(
  variants: readonly Pick<RolloutVariant, 'name' | 'version' | 'weight'>[],
): BucketRange[] {
  let from = 0;
  return variants.map((v) => {
    const range = { name: v.name, version: v.version, from, to: from + v.weight };
    from += v.weight;
    return range;
  });
}

/** The variant that owns a bucket (weights must sum to 10000; contracts/rollout.ts checks that). */
export function variantForBucket<V extends Pick<RolloutVariant, 'weight'>>(
  bucket: number,
  variants: readonly V[],
): V {
  let end = 0;
  for (const v of variants) {
    end += v.weight;
    if (bucket < end) return v;
  }
  const last = variants[variants.length - 1];
  if (!last) throw new RangeError('a rollout needs at least one variant');
  return last;
}

/** The variant a player gets in this rollout. */
export function assign<V extends Pick<RolloutVariant, 'weight'>>(
  rolloutId: string,
  playerId: string,
  variants: readonly V[],
): V {
  return variantForBucket(bucketOf(rolloutId, playerId), variants);
}

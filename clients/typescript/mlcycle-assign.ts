/**
 * mlcycle rollout assignment: the reference client (TypeScript, no dependencies, no imports).
 * Copy this file into a game's web or Node client. It computes which variant of a rollout a
 * player gets from the client manifest's `rollout` block, exactly as the platform does; the
 * published vectors (lambdas/contracts/rollout-vectors.json) test it.
 *
 *   bucket = fmix32(FNV-1a-32(UTF-8 of `${rolloutId}:${playerId}`)) mod 10000
 *   variants take consecutive bucket ranges in listed order (canary first, control last)
 */

export interface Variant {
  name: string;
  version: string;
  /** Basis points; the weights sum to 10000. */
  weight: number;
}

/** The player's bucket in [0, 10000). */
export function mlcycleBucket(rolloutId: string, playerId: string): number {
  const bytes = new TextEncoder().encode(`${rolloutId}:${playerId}`);
  let h = 0x811c9dc5; // FNV-1a 32-bit offset basis
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i] as number;
    h = Math.imul(h, 0x01000193); // FNV 32-bit prime, multiplication mod 2^32
  }
  h ^= h >>> 16; // murmur3 fmix32
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) % 10000;
}

/** The variant this player gets: the first whose cumulative weight passes the bucket. */
export function mlcycleAssign<V extends Variant>(
  rolloutId: string,
  playerId: string,
  variants: readonly V[],
): V {
  const bucket = mlcycleBucket(rolloutId, playerId);
  let end = 0;
  for (const v of variants) {
    end += v.weight;
    if (bucket < end) return v;
  }
  const last = variants[variants.length - 1];
  if (last === undefined) throw new Error('mlcycle: a rollout has at least two variants');
  return last;
}

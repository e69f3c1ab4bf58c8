/**
 * The 32-bit hashing both seeded decisions share: the dataset split (domain/ml/split.ts) and
 * the rollout assignment (domain/rollouts/assignment.ts, whose published vectors pin it).
 */

/** FNV-1a over `units` (bytes, or UTF-16 code units), offset basis 0x811c9dc5, prime 0x01000193. */
export function fnv1a32(units: Iterable<number>): number {
  let h = 0x811c9dc5;
  for (const u of units) {
    h ^= u;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** murmur3's fmix32: every input bit reaches every output bit. */
export function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

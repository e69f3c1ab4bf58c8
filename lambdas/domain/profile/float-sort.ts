/**
 * Sorts the first n finite doubles of an array in place, for the KLL sketch's level-0
 * compaction, which sorts every value a profile sees once. Comparison sorts of random doubles
 * are branch-mispredict-bound (V8's TypedArray sort measured ~90 ns/item here); an LSD radix
 * sort on the order-preserving top 32 bits, skipping digits every key shares (a column's
 * values usually share sign and exponent), then an insertion pass that orders ties on the full
 * value costs about half of that. Pathological inputs (very many distinct values sharing their
 * top 32 bits) fall back to the native sort after a bounded amount of insertion work.
 */

let keysBuffer = new Int32Array(0);
let keysScratch = new Int32Array(0);
let valuesScratch = new Float64Array(0);
/** Counts of the two 11-bit digits of the keys, made in one pass. */
const digitCounts = new Int32Array(2 * 2048);

function ensureScratch(n: number): void {
  if (keysBuffer.length >= n) return;
  keysBuffer = new Int32Array(n);
  keysScratch = new Int32Array(n);
  valuesScratch = new Float64Array(n);
}

export function sortFloat64(a: Float64Array, n: number): void {
  if (n < 64) {
    insertionSort(a, n, Number.POSITIVE_INFINITY);
    return;
  }
  ensureScratch(n);
  // Locals, not module bindings, in the loops: a bundler turns module consts into vars.
  const counts = digitCounts;
  // Little-endian: the high word of double i is word 2i+1.
  const words = new Int32Array(a.buffer, a.byteOffset, n * 2);
  let srcKeys = keysBuffer;
  let dstKeys = keysScratch;
  let srcValues: Float64Array = a;
  let dstValues: Float64Array = valuesScratch;
  let and = -1;
  let or = 0;
  for (let i = 0; i < n; i++) {
    const h = words[2 * i + 1] as number;
    // Flip negatives entirely and positives' sign bit: as unsigned, key order = numeric order.
    // (Kept as int32, which V8 handles in registers; a uint32 over 2^31 becomes a double.)
    const key = h < 0 ? ~h : h | 0x80000000;
    srcKeys[i] = key;
    and &= key;
    or |= key;
  }
  const differing = and ^ or;
  if (differing) {
    // Two 11-bit digits over the top 22 bits in which keys differ: enough to order 4,096 values
    // all but for rare near-ties, which the insertion pass below settles on the full values.
    const low = Math.max(0, 31 - Math.clz32(differing) - 21);
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const key = (srcKeys[i] as number) >>> low;
      const d0 = key & 2047;
      const d1 = 2048 + ((key >>> 11) & 2047);
      counts[d0] = (counts[d0] as number) + 1;
      counts[d1] = (counts[d1] as number) + 1;
    }
    for (let pass = 0; pass < 2; pass++) {
      const shift = low + pass * 11;
      const base = pass * 2048;
      let sum = 0;
      for (let d = base; d < base + 2048; d++) {
        const c = counts[d] as number;
        counts[d] = sum;
        sum += c;
      }
      for (let i = 0; i < n; i++) {
        const key = srcKeys[i] as number;
        const digit = base + ((key >>> shift) & 2047);
        const pos = counts[digit] as number;
        counts[digit] = pos + 1;
        dstKeys[pos] = key;
        dstValues[pos] = srcValues[i] as number;
      }
      const keys = srcKeys;
      srcKeys = dstKeys;
      dstKeys = keys;
      const values = srcValues;
      srcValues = dstValues;
      dstValues = values;
    }
    if (srcValues !== a) a.set(srcValues.subarray(0, n));
  }
  if (!insertionSort(a, n, n * 8)) a.subarray(0, n).sort();
}

/** Insertion sort; false when it gave up after `budget` moves (the caller then sorts natively). */
function insertionSort(a: Float64Array, n: number, budget: number): boolean {
  let moves = 0;
  for (let i = 1; i < n; i++) {
    const x = a[i] as number;
    if ((a[i - 1] as number) <= x) continue;
    let j = i - 1;
    while (j >= 0 && (a[j] as number) > x) {
      a[j + 1] = a[j] as number;
      j--;
    }
    a[j + 1] = x;
    moves += i - j;
    if (moves > budget) return false;
  }
  return true;
}

/**
 * Sorts the first n finite doubles of an array in place, for the KLL sketch's level-0
 * compaction, which sorts every value a profile sees once. Comparison sorts of random doubles
 * are branch-mispredict-bound (V8's TypedArray sort measured ~90 ns/item here); an LSD radix
 * sort on the order-preserving top 32 bits, skipping digits every key shares (a column's
 * values usually share sign and exponent), then an insertion pass that orders ties on the full
 * value costs about half of that. Pathological inputs (very many distinct values sharing their
 * top 32 bits) fall back to the native sort after a bounded amount of insertion work.
 */

let keys = new Uint32Array(0);
let keysScratch = new Uint32Array(0);
let valuesScratch = new Float64Array(0);
const counts = new Uint32Array(2048);

function ensureScratch(n: number): void {
  if (keys.length >= n) return;
  keys = new Uint32Array(n);
  keysScratch = new Uint32Array(n);
  valuesScratch = new Float64Array(n);
}

export function sortFloat64(a: Float64Array, n: number): void {
  if (n < 64) {
    insertionSort(a, n, Number.POSITIVE_INFINITY);
    return;
  }
  ensureScratch(n);
  // Little-endian: the high word of double i is word 2i+1.
  const words = new Uint32Array(a.buffer, a.byteOffset, n * 2);
  let and = 0xffffffff;
  let or = 0;
  for (let i = 0; i < n; i++) {
    const h = words[2 * i + 1] as number;
    // Flip negatives entirely and positives' sign bit: unsigned order = numeric order.
    const key = (h & 0x80000000 ? ~h : h | 0x80000000) >>> 0;
    keys[i] = key;
    and &= key;
    or |= key;
  }
  const differing = (and ^ or) >>> 0;
  let srcKeys: Uint32Array = keys;
  let dstKeys: Uint32Array = keysScratch;
  let srcValues: Float64Array = a;
  let dstValues: Float64Array = valuesScratch;
  for (let shift = 0; shift < 32; shift += 11) {
    if (((differing >>> shift) & 2047) === 0) continue;
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const digit = ((srcKeys[i] as number) >>> shift) & 2047;
      counts[digit] = (counts[digit] as number) + 1;
    }
    let sum = 0;
    for (let d = 0; d < 2048; d++) {
      const c = counts[d] as number;
      counts[d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const key = srcKeys[i] as number;
      const digit = (key >>> shift) & 2047;
      const pos = counts[digit] as number;
      counts[digit] = pos + 1;
      dstKeys[pos] = key;
      dstValues[pos] = srcValues[i] as number;
    }
    [srcKeys, dstKeys] = [dstKeys, srcKeys];
    [srcValues, dstValues] = [dstValues, srcValues];
  }
  if (srcValues !== a) a.set(srcValues.subarray(0, n));
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

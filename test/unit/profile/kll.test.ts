import { describe, expect, it } from 'vitest';
import { Random } from '../../../lambdas/domain/ml/random.js';
import { sortFloat64 } from '../../../lambdas/domain/profile/float-sort.js';
import { coin, DEFAULT_SKETCH_K, KllSketch, rankErrorBound } from '../../../lambdas/domain/profile/kll.js';
import { SketchDistribution } from '../../../lambdas/domain/profile/sketch-distribution.js';

/** Exact P(X ≤ x) over a sorted sample. */
function exactCdf(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as number) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo / sorted.length;
}

/** The largest |sketch CDF − exact CDF| over 1,000 evenly spaced ranks and every retained value. */
function worstRankError(dist: SketchDistribution, sorted: Float64Array): number {
  let worst = 0;
  const probe = (x: number) => {
    worst = Math.max(worst, Math.abs(dist.cdf(x) - exactCdf(sorted, x)));
  };
  for (let i = 0; i < 1000; i++) probe(sorted[Math.floor(((i + 0.5) / 1000) * sorted.length)] as number);
  for (const x of dist.points()) probe(x);
  return worst;
}

const families: Record<string, (rng: Random) => number> = {
  normal: (r) => r.normal(100, 15),
  lognormal: (r) => r.logNormal(3, 1.2),
  uniform: (r) => r.next() * 1000,
  exponential: (r) => r.exponential(40),
  bimodal: (r) => (r.next() < 0.3 ? r.normal(-50, 5) : r.normal(80, 20)),
  // heavy ties: 12 distinct values
  discrete: (r) => Math.floor(r.next() * 12),
  // mixed signs and magnitudes over 12 orders
  wide: (r) => (r.next() < 0.5 ? -1 : 1) * 10 ** (r.next() * 12 - 6),
};

function sample(family: (rng: Random) => number, n: number, seed: number): Float64Array {
  const rng = new Random(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = family(rng);
  return out;
}

function sketchOf(values: Float64Array, k = DEFAULT_SKETCH_K, seed = 1): KllSketch {
  const s = new KllSketch(k, seed);
  for (const x of values) s.update(x);
  return s;
}

describe('KLL sketch: rank error', () => {
  it('documents the bound DataSketches measured (k=400 ≈ 0.86 %, k=800 ≈ 0.45 %)', () => {
    expect(rankErrorBound(400)).toBeCloseTo(0.0086, 4);
    expect(rankErrorBound(800)).toBeCloseTo(0.0045, 4);
    // the default keeps a two-sketch KS distance within 0.01
    expect(2 * rankErrorBound(DEFAULT_SKETCH_K)).toBeLessThan(0.01);
  });

  for (const [name, family] of Object.entries(families)) {
    it(`stays within the bound on ${name} data (200,000 values, k=800 and k=200)`, () => {
      const data = sample(family, 200_000, name.length * 31);
      const sorted = Float64Array.from(data).sort();
      for (const k of [DEFAULT_SKETCH_K, 200]) {
        const sketch = sketchOf(data, k, 7);
        expect(sketch.n).toBe(data.length);
        expect(sketch.min).toBe(sorted[0]);
        expect(sketch.max).toBe(sorted[sorted.length - 1]);
        expect(worstRankError(new SketchDistribution(sketch), sorted)).toBeLessThanOrEqual(rankErrorBound(k));
      }
    });
  }

  it('stays within the bound at 10^6 values, and its quantiles are within the bound in rank', () => {
    const data = sample(families.lognormal as (r: Random) => number, 1_000_000, 99);
    const sorted = Float64Array.from(data).sort();
    const dist = new SketchDistribution(sketchOf(data));
    const bound = rankErrorBound(DEFAULT_SKETCH_K);
    expect(worstRankError(dist, sorted)).toBeLessThanOrEqual(bound);
    for (const q of [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]) {
      const rank = exactCdf(sorted, dist.quantile(q));
      expect(Math.abs(rank - q)).toBeLessThanOrEqual(bound + 1 / sorted.length);
    }
  });

  it('is exact while everything fits (n ≤ k)', () => {
    const data = sample(families.normal as (r: Random) => number, 799, 3);
    const sorted = Float64Array.from(data).sort();
    const dist = new SketchDistribution(sketchOf(data));
    expect(worstRankError(dist, sorted)).toBe(0);
    expect(dist.quantile(0.5)).toBe(sorted[399]);
  });

  it('ignores NaN and keeps infinities at the ends', () => {
    const s = new KllSketch(200, 1);
    for (const x of [1, Number.NaN, 2, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 3]) s.update(x);
    expect(s.n).toBe(5);
    const d = new SketchDistribution(s);
    expect([...d.points()]).toEqual([Number.NEGATIVE_INFINITY, 1, 2, 3, Number.POSITIVE_INFINITY]);
  });
});

/**
 * The textbook lazy KLL the sketch implements, with plain arrays: sort the buffer into level 0,
 * then while over the total capacity compact the lowest level at or over its own (merge, keep
 * every other item from a coin's offset, an odd last item stays). The real one reuses storage
 * and fuses merging with compacting; it must keep exactly these items.
 */
class ReferenceKll {
  levels: number[][] = [[]];
  buffer: number[] = [];
  compactions = 0;
  constructor(
    readonly k: number,
    readonly seed: number,
  ) {}
  capacity(h: number): number {
    return Math.max(8, Math.ceil(this.k * (2 / 3) ** (this.levels.length - 1 - h)));
  }
  add(values: Iterable<number>): void {
    for (const x of values) {
      this.buffer.push(x);
      if (this.buffer.length === Math.max(4096, this.k)) this.flush();
    }
  }
  flush(): void {
    this.levels[0] = [...(this.levels[0] as number[]), ...this.buffer].sort((a, b) => a - b);
    this.buffer = [];
    const stored = () => this.levels.reduce((n, l) => n + l.length, 0);
    const total = () => this.levels.reduce((n, _, h) => n + this.capacity(h), 0);
    while (stored() > total()) {
      let h = 0;
      while ((this.levels[h] as number[]).length < this.capacity(h)) h++;
      if (h + 1 === this.levels.length) this.levels.push([]);
      const level = this.levels[h] as number[];
      const even = level.length & ~1;
      const offset = coin(this.seed, this.compactions++);
      const up = level.slice(0, even).filter((_, i) => (i & 1) === offset);
      this.levels[h] = level.slice(even);
      this.levels[h + 1] = [...(this.levels[h + 1] as number[]), ...up].sort((a, b) => a - b);
    }
  }
}

describe('KLL sketch: the textbook algorithm, exactly', () => {
  it('keeps the items the plain lazy KLL keeps, for any batch sizes and k', () => {
    const rng = new Random(31);
    for (const k of [8, 16, 50, 200, 800]) {
      const sketch = new KllSketch(k, 5);
      const reference = new ReferenceKll(k, 5);
      for (let step = 0; step < 60; step++) {
        const batch = sample(families.wide as (r: Random) => number, 1 + Math.floor(rng.next() * 5000), step);
        sketch.updateMany(batch, batch.length);
        reference.add(batch);
      }
      reference.flush();
      expect(sketch.toJSON().levels).toEqual(reference.levels);
    }
  });
});

describe('KLL sketch: merge', () => {
  it('a merge of sketches over parts is a sketch of the union, within the bound', () => {
    // four parts of different shapes and sizes, as byte ranges of one file would give
    const parts = [
      sample(families.normal as (r: Random) => number, 300_000, 1),
      sample(families.bimodal as (r: Random) => number, 50_000, 2),
      sample(families.exponential as (r: Random) => number, 120_000, 3),
      sample(families.normal as (r: Random) => number, 7, 4),
    ];
    const union = new Float64Array(parts.reduce((s, p) => s + p.length, 0));
    let o = 0;
    for (const p of parts) {
      union.set(p, o);
      o += p.length;
    }
    const sorted = Float64Array.from(union).sort();
    const merged = sketchOf(parts[0] as Float64Array, DEFAULT_SKETCH_K, 11);
    parts.slice(1).forEach((p, i) => {
      merged.merge(sketchOf(p, DEFAULT_SKETCH_K, 12 + i));
    });
    expect(merged.n).toBe(union.length);
    expect(merged.min).toBe(sorted[0]);
    expect(merged.max).toBe(sorted[sorted.length - 1]);
    const bound = rankErrorBound(DEFAULT_SKETCH_K);
    expect(worstRankError(new SketchDistribution(merged), sorted)).toBeLessThanOrEqual(bound);
    // and it agrees with one sketch over the whole stream within the sum of both bounds
    const whole = new SketchDistribution(sketchOf(union));
    const m = new SketchDistribution(merged);
    for (let i = 1; i < 100; i++) {
      const x = sorted[Math.floor((i / 100) * sorted.length)] as number;
      expect(Math.abs(m.cdf(x) - whole.cdf(x))).toBeLessThanOrEqual(2 * bound);
    }
    // merged sketches stay small
    expect(merged.retained).toBeLessThanOrEqual(3.2 * DEFAULT_SKETCH_K);
  });

  it('merging an empty sketch changes nothing; merging into an empty one copies', () => {
    const data = sample(families.uniform as (r: Random) => number, 50_000, 5);
    const a = sketchOf(data);
    const before = JSON.stringify(a.toJSON());
    a.merge(new KllSketch(DEFAULT_SKETCH_K, 2));
    expect(JSON.stringify(a.toJSON())).toBe(before);
    const empty = new KllSketch(DEFAULT_SKETCH_K, 3);
    empty.merge(a);
    expect(empty.n).toBe(50_000);
    expect(new SketchDistribution(empty).quantile(0.5)).toBe(new SketchDistribution(a).quantile(0.5));
  });

  it('refuses to merge sketches with different k', () => {
    const a = sketchOf(sample(families.uniform as (r: Random) => number, 10, 1), 400);
    expect(() => a.merge(sketchOf(sample(families.uniform as (r: Random) => number, 10, 2), 800))).toThrow(
      /k=800/,
    );
  });
});

describe('KLL sketch: serialisation and size', () => {
  it('round-trips through JSON exactly, and keeps going the same way afterwards', () => {
    const data = sample(families.lognormal as (r: Random) => number, 300_000, 8);
    const a = sketchOf(data.subarray(0, 200_000), DEFAULT_SKETCH_K, 4);
    const json = JSON.stringify(a.toJSON());
    const b = KllSketch.fromJSON(JSON.parse(json));
    expect(JSON.stringify(b.toJSON())).toBe(json);
    expect([...new SketchDistribution(b).points()]).toEqual([...new SketchDistribution(a).points()]);
    for (const x of data.subarray(200_000)) {
      a.update(x);
      b.update(x);
    }
    expect(JSON.stringify(b.toJSON())).toBe(JSON.stringify(a.toJSON()));
    expect(b.n).toBe(300_000);
  });

  it('round-trips packed for threads (one typed array), and keeps going the same way afterwards', () => {
    const data = sample(families.bimodal as (r: Random) => number, 120_000, 12);
    const a = sketchOf(data.subarray(0, 100_000), DEFAULT_SKETCH_K, 4);
    const b = KllSketch.fromPacked(structuredClone(a.toPacked()));
    expect(JSON.stringify(b.toJSON())).toBe(JSON.stringify(a.toJSON()));
    for (const x of data.subarray(100_000)) {
      a.update(x);
      b.update(x);
    }
    expect(JSON.stringify(b.toJSON())).toBe(JSON.stringify(a.toJSON()));
    const empty = KllSketch.fromPacked(new KllSketch(DEFAULT_SKETCH_K, 1).toPacked());
    empty.merge(a);
    expect(empty.n).toBe(a.n);
  });

  it('is deterministic: same values, same seed ⇒ same sketch; another seed differs', () => {
    const data = sample(families.normal as (r: Random) => number, 100_000, 9);
    expect(JSON.stringify(sketchOf(data, 800, 5).toJSON())).toBe(
      JSON.stringify(sketchOf(data, 800, 5).toJSON()),
    );
    expect(JSON.stringify(sketchOf(data, 800, 6).toJSON())).not.toBe(
      JSON.stringify(sketchOf(data, 800, 5).toJSON()),
    );
  });

  it('stays kilobytes per feature whatever n is', () => {
    const sizes: number[] = [];
    for (const n of [10_000, 100_000, 1_000_000]) {
      const s = sketchOf(sample(families.normal as (r: Random) => number, n, n));
      const bytes = JSON.stringify(s.toJSON()).length;
      expect(s.retained).toBeLessThanOrEqual(3.2 * DEFAULT_SKETCH_K);
      expect(bytes).toBeLessThan(64 * 1024);
      sizes.push(bytes);
    }
    // no growth with n beyond the few extra small levels
    expect((sizes[2] as number) / (sizes[1] as number)).toBeLessThan(1.2);
  });
});

describe('sortFloat64 (radix sort for level-0 compaction)', () => {
  const cases: Record<string, (r: Random, i: number) => number> = {
    normal: (r) => r.normal(100, 15),
    mixedSign: (r) => r.normal(0, 250),
    ties: (r) => Math.floor(r.next() * 5),
    specials: (r, i) =>
      [0, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, r.normal(0, 1)][i % 5] as number,
    // many distinct values sharing their top 32 bits: the insertion pass gives up, native sort finishes
    sameTopBits: (r) => 1 + r.next() * 2 ** -30,
    tiny: (r) => r.next() * 1e-300,
  };
  for (const [name, gen] of Object.entries(cases)) {
    it(`sorts like the native sort: ${name}`, () => {
      const rng = new Random(name.length);
      for (const n of [0, 1, 63, 64, 1000, 4096]) {
        const a = Float64Array.from({ length: n + 5 }, (_, i) => gen(rng, i));
        const expected = Float64Array.from(a.subarray(0, n)).sort();
        const tail = Array.from(a.subarray(n));
        sortFloat64(a, n);
        expect(Array.from(a.subarray(0, n)).map((x) => (Object.is(x, -0) ? 0 : x))).toEqual(
          Array.from(expected).map((x) => (Object.is(x, -0) ? 0 : x)),
        );
        expect(Array.from(a.subarray(n))).toEqual(tail); // only the first n are touched
      }
    });
  }
});

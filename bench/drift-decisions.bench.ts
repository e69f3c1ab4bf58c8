/**
 * `npm run bench:decisions [-- --quick] [-- --sizes 1000,10000]`: how often each decision rule
 * flags seeded drifts of known kinds, and how often it cries wolf on pairs drawn from one law.
 *
 * Every pair is two seeded CSV files (baseline, batch; the same number of rows) profiled by the
 * product's profiler (profileBytes: the CSV reader, KLL sketches, category tables) and compared
 * by compareProfiles; the four rules read the same FeatureDrift details, so the figures are the
 * product's measurements, not an exact-statistics ideal:
 * - ours: FeatureDrift.severity ≠ none (lambdas/domain/drift/compare.ts);
 * - Evidently's default: numeric W/σ > 0.1 when the baseline has > 1,000 values, else KS
 *   p < 0.05; categorical JS distance > 0.1 above 1,000 values, else χ² p < 0.05 (Evidently
 *   uses a proportion z-test for binary columns; for two categories χ² is the same test);
 * - PSI > 0.2 (deciles of the baseline for numeric columns, categories for categorical);
 * - KS p < 0.05 (χ² p < 0.05 for categorical columns).
 * Missing values are ignored by the last three rules (as the tools do), so "missing rate" is a
 * kind only ours looks for. Each file holds every kind as a column, and eight no-drift columns
 * of different shapes; false alarms are counted over those. Sizes 1k, 10k, 100k, 1M rows
 * (--quick: no 1M, fewer repetitions).
 */
import { type CompareOptions, compareProfiles } from '../lambdas/domain/drift/compare.js';
import type { FeatureDrift } from '../lambdas/domain/drift/drift-result.js';
import { Random } from '../lambdas/domain/ml/random.js';
import { profileBytes } from '../lambdas/domain/profile/profiler.js';

const quick = process.argv.includes('--quick');
const sizesArg = process.argv[process.argv.indexOf('--sizes') + 1];
const REPS: Record<number, number> = quick
  ? { 1000: 50, 10000: 20, 100000: 4 }
  : { 1000: 200, 10000: 100, 100000: 30, 1000000: 15 };
const SIZES =
  process.argv.includes('--sizes') && sizesArg
    ? sizesArg.split(',').map(Number)
    : Object.keys(REPS).map(Number);

const options: CompareOptions = {
  thresholds: { low: 0.1, medium: 0.2, high: 0.3, critical: 0.5 },
  minSampleSize: 200,
};

type Draw = (r: Random) => string;
const num = (x: number) => x.toFixed(4);
const normal =
  (mean = 0, sd = 1): Draw =>
  (r) =>
    num(r.normal(mean, sd));
/** Student's t₃ scaled to unit variance. */
const t3: Draw = (r) => {
  const chi = r.normal() ** 2 + r.normal() ** 2 + r.normal() ** 2;
  return num(r.normal() / Math.sqrt(chi / 3) / Math.sqrt(3));
};
const withMissing =
  (rate: number, d: Draw): Draw =>
  (r) =>
    r.next() < rate ? '' : d(r);
const cats =
  (names: readonly string[], weights: readonly number[]): Draw =>
  (r) =>
    names[r.choice(weights)] as string;
const CAT5 = ['a', 'b', 'c', 'd', 'e'];
const W5 = [0.4, 0.3, 0.15, 0.1, 0.05];
const CAT40 = Array.from({ length: 40 }, (_, i) => `k${i}`);
const ZIPF40 = CAT40.map((_, i) => 1 / (i + 1));
const bernoulli =
  (p: number): Draw =>
  (r) =>
    r.next() < p ? '1' : '0';

interface Kind {
  name: string;
  effect: string;
  baseline: Draw;
  batch: Draw;
}

/** Drifts of a size a data scientist would want to hear about. */
const KINDS: Kind[] = [
  { name: 'mean shift', effect: 'N(0,1) → N(0.25,1)', baseline: normal(), batch: normal(0.25) },
  { name: 'scale change', effect: 'σ × 1.3', baseline: normal(), batch: normal(0, 1.3) },
  { name: 'heavier tail', effect: 'N(0,1) → t₃ (σ = 1)', baseline: normal(), batch: t3 },
  {
    name: 'new mode',
    effect: '10 % of rows at +4σ',
    baseline: normal(),
    batch: (r) => (r.next() < 0.1 ? num(r.normal(4, 1)) : num(r.normal())),
  },
  {
    name: 'integer levels (ties)',
    effect: 'Poisson(3) → Poisson(3.5)',
    baseline: (r) => String(r.poisson(3)),
    batch: (r) => String(r.poisson(3.5)),
  },
  {
    name: 'missing rate',
    effect: '5 % → 20 % missing',
    baseline: withMissing(0.05, normal()),
    batch: withMissing(0.2, normal()),
  },
  {
    name: 'new category',
    effect: '5 % of rows in a new value',
    baseline: cats(CAT5, W5),
    batch: (r) => (r.next() < 0.05 ? 'new' : cats(CAT5, W5)(r)),
  },
  {
    name: 'category mix',
    effect: '10 points from the largest to the smallest of 5',
    baseline: cats(CAT5, W5),
    batch: cats(CAT5, [0.3, 0.3, 0.15, 0.1, 0.15]),
  },
  {
    name: 'label shift',
    effect: 'positives 20 % → 30 % (0/1 label)',
    baseline: bernoulli(0.2),
    batch: bernoulli(0.3),
  },
];

/** No-drift columns: the batch is drawn from the baseline's law. */
const NULLS: { name: string; draw: Draw }[] = [
  { name: 'normal', draw: normal() },
  { name: 'log-normal', draw: (r) => num(r.logNormal(0, 1)) },
  { name: 't₃', draw: t3 },
  { name: 'Poisson(3)', draw: (r) => String(r.poisson(3)) },
  { name: 'normal, 5 % missing', draw: withMissing(0.05, normal()) },
  { name: '5 categories', draw: cats(CAT5, W5) },
  { name: '40 categories (Zipf)', draw: cats(CAT40, ZIPF40) },
  { name: '0/1 label, 20 %', draw: bernoulli(0.2) },
];

const COLUMNS = [
  ...KINDS.map((k, i) => ({ name: `drift_${i}`, baseline: k.baseline, batch: k.batch })),
  ...NULLS.map((k, i) => ({ name: `same_${i}`, baseline: k.draw, batch: k.draw })),
];

function csv(rows: number, seed: number, side: 'baseline' | 'batch'): Buffer {
  const rng = new Random(seed);
  const parts: string[] = [`${COLUMNS.map((c) => c.name).join(',')}\n`];
  const cells = new Array<string>(COLUMNS.length);
  for (let i = 0; i < rows; i++) {
    for (let c = 0; c < COLUMNS.length; c++) cells[c] = (COLUMNS[c] as (typeof COLUMNS)[number])[side](rng);
    parts.push(`${cells.join(',')}\n`);
  }
  return Buffer.from(parts.join(''));
}

type Rule = (f: FeatureDrift) => boolean;
const RULES: { name: string; flags: Rule }[] = [
  { name: 'ours', flags: (f) => f.severity !== 'none' },
  {
    name: 'Evidently default',
    flags: (f) => {
      const d = f.details;
      const big = d.baselineRows > 1000;
      if (f.kind === 'numeric') return big ? (d.wassersteinNormalized ?? 0) > 0.1 : (d.pValue ?? 1) < 0.05;
      return big ? (d.jensenShannon ?? 0) > 0.1 : (d.pValue ?? 1) < 0.05;
    },
  },
  { name: 'PSI > 0.2', flags: (f) => (f.details.psi ?? 0) > 0.2 },
  { name: 'KS p < 0.05', flags: (f) => (f.details.pValue ?? 1) < 0.05 },
];

interface Tally {
  hits: number[][]; // [kind][rule]
  falseAlarms: number[][]; // [null column][rule]
  reps: number;
}

function run(rows: number, reps: number, sizeIndex: number): Tally {
  const tally: Tally = {
    hits: KINDS.map(() => RULES.map(() => 0)),
    falseAlarms: NULLS.map(() => RULES.map(() => 0)),
    reps,
  };
  for (let rep = 0; rep < reps; rep++) {
    const seed = 1_000_003 * (sizeIndex + 1) + 2 * rep;
    const base = profileBytes(csv(rows, seed, 'baseline'), { format: 'csv' });
    const batch = profileBytes(csv(rows, seed + 1, 'batch'), { format: 'csv' });
    const result = compareProfiles(base, batch, options);
    for (const f of result.features) {
      const [group, index] = f.name.split('_') as [string, string];
      const row = (group === 'drift' ? tally.hits : tally.falseAlarms)[Number(index)] as number[];
      RULES.forEach((rule, r) => {
        if (f.status === 'ok' && rule.flags(f)) row[r] = (row[r] as number) + 1;
      });
    }
  }
  return tally;
}

const pct = (k: number, n: number) => `${((100 * k) / n).toFixed(k && k < n ? 1 : 0)} %`;

function table(rows: number, t: Tally): string {
  const header = `| kind (effect) | ${RULES.map((r) => r.name).join(' | ')} |`;
  const lines = [
    `### ${rows.toLocaleString('en')} vs ${rows.toLocaleString('en')} rows (${t.reps} pairs)`,
    '',
    header,
    `|---|${RULES.map(() => '---:').join('|')}|`,
    ...KINDS.map(
      (k, i) =>
        `| ${k.name} (${k.effect}) | ${(t.hits[i] as number[]).map((h) => pct(h, t.reps)).join(' | ')} |`,
    ),
  ];
  const trials = t.reps * NULLS.length;
  const totals = RULES.map((_, r) => t.falseAlarms.reduce((s, row) => s + (row[r] as number), 0));
  lines.push(
    `| **false alarms, no drift** (${trials} columns) | ${totals.map((x) => `**${pct(x, trials)}**`).join(' | ')} |`,
  );
  const worst = NULLS.map((n, i) => ({ n, row: t.falseAlarms[i] as number[] })).filter((x) =>
    x.row.some((v) => v > 0),
  );
  if (worst.length)
    lines.push(
      '',
      `False alarms by no-drift column: ${worst
        .map((x) => `${x.n.name}: ${x.row.map((v, r) => `${RULES[r]?.name} ${v}/${t.reps}`).join(', ')}`)
        .join('; ')}`,
    );
  return lines.join('\n');
}

console.log(
  `drift decisions benchmark${quick ? ' (--quick)' : ''}: detection rate per kind, false-alarm rate on no-drift columns\n`,
);
SIZES.forEach((rows, i) => {
  const reps = REPS[rows] ?? 4;
  const started = Date.now();
  const t = run(rows, reps, i);
  console.log(`${table(rows, t)}\n\n(${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
});

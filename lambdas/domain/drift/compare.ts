import type { Metrics } from '../../contracts/pipeline.js';
import { KllSketch } from '../profile/kll.js';
import { performanceMetrics } from '../profile/performance.js';
import {
  type CategoricalProfile,
  type ColumnProfile,
  missingRate,
  type NumericProfile,
  type Profile,
  variance,
} from '../profile/profile.js';
import { SketchDistribution } from '../profile/sketch-distribution.js';
import type { DriftResult, FeatureDrift, FeatureRole } from './drift-result.js';
import { recommend } from './recommend.js';
import { maxSeverity, SEVERITY_ORDER, severityOf, type Thresholds } from './severity.js';
import {
  binShares,
  decileEdges,
  jensenShannon,
  ksBeyondNoise,
  ksDistance,
  ksPValue,
  psi,
  wasserstein,
} from './statistics.js';

export interface CompareOptions {
  readonly thresholds: Thresholds;
  readonly minSampleSize: number;
  readonly roles?: { target?: string; prediction?: string; latency?: string; ignore?: readonly string[] };
  /** Evaluation metrics of the serving version, to compare live performance against. */
  readonly referenceMetrics?: Partial<Metrics> | null;
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

function roleOf(name: string, roles: CompareOptions['roles']): FeatureRole {
  if (name === roles?.target) return 'target';
  if (name === (roles?.prediction ?? 'prediction')) return 'prediction';
  if (name === (roles?.latency ?? 'latency_ms')) return 'latency';
  return 'feature';
}

function numericDrift(base: NumericProfile, batch: NumericProfile) {
  const a = new SketchDistribution(KllSketch.fromJSON(base.sketch));
  const b = new SketchDistribution(KllSketch.fromJSON(batch.sketch));
  const d = ksDistance(a, b);
  const edges = decileEdges(a);
  const baseShares = binShares(a, edges);
  const batchShares = binShares(b, edges);
  const sd = Math.sqrt(variance(base));
  const adjusted = ksBeyondNoise(d, base.count, batch.count);
  return {
    method: 'ks-beyond-noise',
    score: adjusted,
    details: {
      ks: round(d),
      ksBeyondNoise: round(adjusted),
      pValue: ksPValue(d, base.count, batch.count),
      psi: round(psi(baseShares, batchShares)),
      wassersteinNormalized: round(sd > 0 ? wasserstein(a, b) / sd : 0),
      baselineMean: round(base.mean),
      batchMean: round(batch.mean),
    },
    chart: {
      labels: [
        ...edges.map((e) => `≤${Number(e.toPrecision(3))}`),
        `>${Number((edges.at(-1) ?? 0).toPrecision(3))}`,
      ],
      baseline: baseShares.map(round),
      batch: batchShares.map(round),
    },
  };
}

function categoricalDrift(base: CategoricalProfile, batch: CategoricalProfile) {
  const categories = [...new Set([...Object.keys(base.counts), ...Object.keys(batch.counts)])];
  const share = (p: CategoricalProfile) => {
    const total = p.count || 1;
    return [...categories.map((c) => (p.counts[c] ?? 0) / total), p.other / total];
  };
  const a = share(base);
  const b = share(batch);
  const js = jensenShannon(a, b);
  return {
    method: 'jensen-shannon',
    score: js,
    details: {
      jensenShannon: round(js),
      psi: round(psi(a, b)),
      unseen: categories.filter((c) => !(c in base.counts) && (batch.counts[c] ?? 0) > 0),
      vanished: categories.filter((c) => (base.counts[c] ?? 0) > 0 && !(c in batch.counts)),
    },
    chart: { labels: [...categories, '(other)'], baseline: a.map(round), batch: b.map(round) },
  };
}

function present(p: ColumnProfile): number {
  return p.count;
}

function rowsOf(p: ColumnProfile): number {
  return p.count + p.missing + (p.kind === 'numeric' ? p.invalid : 0);
}

/**
 * Compares a batch profile with the baseline: per column the stated decision score (numeric:
 * KS distance beyond sampling noise; categorical: Jensen–Shannon distance) and, on its own, the
 * change in missing rate; PSI, Wasserstein/σ and the KS p-value are reported alongside. Below
 * the minimum sample size a column says "insufficient data" instead of guessing.
 */
export function compareProfiles(baseline: Profile, batch: Profile, o: CompareOptions): DriftResult {
  const features: FeatureDrift[] = [];
  const warnings = [...batch.warnings];
  const ignore = new Set(o.roles?.ignore ?? []);
  for (const [name, base] of Object.entries(baseline.columns)) {
    if (ignore.has(name)) continue;
    const role = roleOf(name, o.roles);
    const got = batch.columns[name];
    const baseMissing = missingRate(base);
    if (!got) {
      features.push({
        name,
        role,
        kind: base.kind,
        status: 'missing-in-batch',
        method: 'presence',
        score: 1,
        severity: role === 'feature' ? 'critical' : 'none',
        details: {
          missingRate: {
            baseline: round(baseMissing),
            batch: 1,
            change: round(1 - baseMissing),
            severity: 'critical',
          },
          baselineRows: baseline.rows,
          batchRows: batch.rows,
        },
        recommendation: `The column "${name}" is missing from the batch: check the producer's schema before trusting predictions.`,
        chart: { labels: [], baseline: [], batch: [] },
      });
      continue;
    }
    if (got.kind !== base.kind)
      warnings.push(`column "${name}" is ${got.kind} in the batch but ${base.kind} in the baseline`);
    const batchMissing = missingRate(got);
    const missingChange = Math.abs(batchMissing - baseMissing);
    // The missing rate is judged on its own (a column going from 5 % to 25 % missing is drift
    // whatever its KS says), on all rows, present or not; below the minimum it is not judged.
    const enoughRows = rowsOf(base) >= o.minSampleSize && rowsOf(got) >= o.minSampleSize;
    const missingSeverity = enoughRows ? severityOf(missingChange, o.thresholds) : 'none';
    const enough = present(base) >= o.minSampleSize && present(got) >= o.minSampleSize;
    const compared =
      base.kind === 'numeric' && got.kind === 'numeric'
        ? numericDrift(base, got)
        : base.kind === 'categorical' && got.kind === 'categorical'
          ? categoricalDrift(base, got)
          : undefined;
    const score = enough && compared ? compared.score : null;
    const distributionSeverity = severityOf(score, o.thresholds);
    const severity = maxSeverity(distributionSeverity, missingSeverity);
    // The record names what decided: a column flagged for its missing rate alone must not read
    // "KS 0.000, medium" (the distribution's scores stay in the details).
    const missingDecides =
      SEVERITY_ORDER.indexOf(missingSeverity) > SEVERITY_ORDER.indexOf(distributionSeverity);
    const feature: FeatureDrift = {
      name,
      role,
      kind: base.kind,
      status: enough ? 'ok' : 'insufficient-data',
      method: missingDecides ? 'missing-rate' : (compared?.method ?? 'none'),
      score: missingDecides ? round(missingChange) : score === null ? null : round(score),
      severity,
      details: {
        ...(compared?.details ?? {}),
        missingRate: {
          baseline: round(baseMissing),
          batch: round(batchMissing),
          change: round(batchMissing - baseMissing),
          severity: missingSeverity,
        },
        baselineRows: present(base),
        batchRows: present(got),
      },
      recommendation: '',
      chart: compared?.chart ?? { labels: [], baseline: [], batch: [] },
    };
    feature.recommendation = recommend(feature, o.minSampleSize);
    features.push(feature);
  }
  const addedColumns = Object.keys(batch.columns).filter((c) => !(c in baseline.columns) && !ignore.has(c));
  if (addedColumns.length)
    warnings.push(`columns not in the baseline were ignored: ${addedColumns.join(', ')}`);

  const inputs = features.filter((f) => f.role === 'feature');
  const assessed = inputs.filter((f) => f.status !== 'insufficient-data');
  const drifted = assessed.filter((f) => f.severity !== 'none');
  const driftedShare = assessed.length ? drifted.length / assessed.length : 0;
  const status = assessed.length ? 'ok' : 'insufficient-data';

  const metrics = batch.performance ? performanceMetrics(batch.performance) : null;
  const reference = o.referenceMetrics ?? null;
  const change =
    metrics && reference
      ? (Object.fromEntries(
          Object.entries(metrics)
            .filter(([k]) => typeof reference[k as keyof Metrics] === 'number')
            .map(([k, v]) => [k, round(v - (reference[k as keyof Metrics] as number))]),
        ) as Partial<Metrics>)
      : null;
  const latencyName = o.roles?.latency ?? 'latency_ms';
  const latencyProfile = batch.columns[latencyName];
  let latency: DriftResult['performance']['latency'] = null;
  if (latencyProfile?.kind === 'numeric' && latencyProfile.count) {
    const dist = new SketchDistribution(KllSketch.fromJSON(latencyProfile.sketch));
    latency = {
      p50: round(dist.quantile(0.5)),
      p95: round(dist.quantile(0.95)),
      p99: round(dist.quantile(0.99)),
    };
  }
  return {
    status,
    overallSeverity: maxSeverity(...features.filter((f) => f.role !== 'latency').map((f) => f.severity)),
    driftedShare: round(driftedShare),
    datasetDrift: driftedShare >= 0.5,
    rows: { baseline: baseline.rows, batch: batch.rows },
    features,
    addedColumns,
    performance: { metrics, reference, change, latency },
    warnings,
  };
}

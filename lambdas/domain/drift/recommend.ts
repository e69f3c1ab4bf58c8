import type { FeatureDrift } from './drift-result.js';

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const n3 = (x: number) => Number(x.toPrecision(3));

/** What moved: the mean, the spread, or (neither by much) the shape. */
function change(d: FeatureDrift['details']): string {
  const m0 = d.baselineMean ?? 0;
  const m1 = d.batchMean ?? 0;
  const s0 = d.baselineSd ?? 0;
  const s1 = d.batchSd ?? 0;
  const mean = `mean ${m1 > m0 ? 'rose' : 'fell'} from ${n3(m0)} to ${n3(m1)}`;
  const spread = `spread ${s1 > s0 ? 'grew' : 'shrank'} (σ ${n3(s0)} → ${n3(s1)})`;
  const meanMoved = s0 > 0 ? Math.abs(m1 - m0) >= 0.1 * s0 : m1 !== m0;
  const spreadMoved = s0 > 0 && (s1 / s0 > 1.1 || s1 / s0 < 0.9);
  if (meanMoved && spreadMoved) return `shifted: ${mean}, ${spread}`;
  if (spreadMoved) return `changed its spread: ${spread}`;
  if (meanMoved) return `shifted: ${mean}`;
  return `changed its shape (tails or modes) at about the same mean and σ`;
}

/** What to do about one column's drift, in a sentence an on-call engineer can act on. */
export function recommend(f: FeatureDrift, minSampleSize: number): string {
  const d = f.details;
  if (f.status === 'insufficient-data') {
    return `Only ${Math.min(d.baselineRows, d.batchRows)} values (< ${minSampleSize}): wait for more data before judging "${f.name}".`;
  }
  if (d.missingRate.severity !== 'none' && Math.abs(d.missingRate.change) >= (f.score ?? 0)) {
    return `Missing values in "${f.name}" went from ${pct(d.missingRate.baseline)} to ${pct(d.missingRate.batch)}: check the producer or ETL step that fills it; imputation is hiding the gap from the model.`;
  }
  if (f.severity === 'none') return 'No action needed.';
  const who =
    f.role === 'target'
      ? 'The label distribution (concept drift)'
      : f.role === 'prediction'
        ? "The model's output distribution"
        : `"${f.name}"`;
  if (f.kind === 'categorical') {
    const unseen = d.unseen?.length ? ` New values: ${d.unseen.slice(0, 5).join(', ')}.` : '';
    const vanished = d.vanished?.length ? ` Gone: ${d.vanished.slice(0, 5).join(', ')}.` : '';
    return `${who} changed its mix (JS distance ${d.jensenShannon}, noise margin ${d.jensenShannonNoiseMargin}).${unseen}${vanished} If the new mix is real, retrain on recent data; if not, check upstream mappings.`;
  }
  const action =
    f.role === 'target'
      ? 'Labels shifted: re-evaluate the serving model on recent labelled data and retrain if its metrics dropped.'
      : f.severity === 'critical' || f.severity === 'high'
        ? 'Retrain on recent data (mlcycle pipeline start) after confirming the shift is real, not a pipeline bug.'
        : 'Watch the next batches; retrain if it persists.';
  const measured =
    f.method === 'wasserstein-beyond-noise'
      ? `W/σ ${d.wassersteinNormalized}, noise margin ${d.wassersteinNoiseMargin}; KS ${d.ks}`
      : `KS ${d.ks}, noise margin ${d.ksNoiseMargin}; W/σ ${d.wassersteinNormalized}`;
  return `${who} ${change(d)} (${measured}). ${action}`;
}

import type { FeatureDrift } from './drift-result.js';

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

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
  const direction = (d.batchMean ?? 0) > (d.baselineMean ?? 0) ? 'rose' : 'fell';
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
  return `${who} shifted (mean ${direction} from ${d.baselineMean} to ${d.batchMean}; ${measured}). ${action}`;
}

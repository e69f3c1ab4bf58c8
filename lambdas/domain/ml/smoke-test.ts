import { ArtifactValidationError } from '../errors.js';
import { type LoadedModel, loadModel, predictProba } from './artifact.js';
import { parseCsv } from './dataset.js';
import type { RawRow } from './features.js';

/**
 * The deploy-time check that a model artifact loads and predicts: scores the first `n` rows of
 * a sample and requires probabilities in [0, 1]. Returns them as evidence for the ledger.
 */
export function smokeTest(modelText: string, sampleCsv: string, n: number): number[] {
  return predictOnSample(loadModel(modelText), sampleCsv, n, 'the smoke-test sample');
}

/**
 * Scores the first `n` rows of a CSV sample (a holdout or the head of a dataset). The sample
 * must carry every feature the model reads: a model scored on rows without its inputs would
 * "predict" on imputed means only and prove nothing, so that is an ArtifactValidationError (the
 * artifact does not match the data it claims). An unreadable sample is a DataError.
 */
export function predictOnSample(model: LoadedModel, sampleCsv: string, n: number, what: string): number[] {
  const { columns, rows } = parseCsv(sampleCsv, what);
  const present = new Set(columns);
  const missing = model.features.map((f) => f.name).filter((name) => !present.has(name));
  if (missing.length) {
    throw new ArtifactValidationError(
      `the model reads ${missing.map((m) => `"${m}"`).join(', ')}, which ${what} does not have (its columns: ${columns.join(', ')}): the artifact does not match its data`,
    );
  }
  return checkedPredictions(model, rows.slice(0, n), what);
}

/**
 * Rows built from the artifact's own feature schema, for a version that has no data of its own
 * to be smoke-tested on (registered outside a pipeline, without a dataset): numeric features at
 * their training mean, then ±1 and +2 standard deviations; categoricals cycling through the
 * categories the model learned, with one row of values it never saw; and a last row with every
 * value missing, which the model must handle as it did in training (imputation, "(other)").
 * Deterministic, so the ledger's evidence can be reproduced.
 */
export function schemaSampleRows(model: LoadedModel, n: number): RawRow[] {
  const count = Math.max(1, Math.floor(n));
  const offsets = [0, 1, -1, 2, -2];
  const rows: RawRow[] = [];
  for (let i = 0; i < count - 1; i++) {
    const z = offsets[i % offsets.length] ?? 0;
    const row: Record<string, string | number | null> = {};
    for (const f of model.features) {
      if (f.kind === 'numeric') row[f.name] = f.mean + z * f.std;
      else {
        // One row in (categories + 1) takes a value outside the learned ones.
        const at = i % (f.categories.length + 1);
        row[f.name] = f.categories[at] ?? `(unseen-${f.name})`;
      }
    }
    rows.push(row);
  }
  rows.push(Object.fromEntries(model.features.map((f) => [f.name, null])));
  return rows;
}

/** Scores `n` rows synthesised from the artifact's feature schema (see schemaSampleRows). */
export function predictOnSchemaSample(model: LoadedModel, n: number): number[] {
  return checkedPredictions(model, schemaSampleRows(model, n), "rows built from the model's feature schema");
}

function checkedPredictions(model: LoadedModel, rows: readonly RawRow[], what: string): number[] {
  if (!rows.length) throw new ArtifactValidationError(`no rows to smoke-test the model on in ${what}`);
  const predictions = rows.map((row) => predictProba(model, row));
  const bad = predictions.find((p) => !(Number.isFinite(p) && p >= 0 && p <= 1));
  if (bad !== undefined) throw new ArtifactValidationError(`model predicted ${bad} on ${what}`);
  return predictions.map((p) => Math.round(p * 1e4) / 1e4);
}

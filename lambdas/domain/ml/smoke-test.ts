import { ArtifactValidationError } from '../errors.js';
import { loadModel, predictProba } from './artifact.js';
import { parseCsv } from './dataset.js';

/**
 * The deploy-time check that a model artifact loads and predicts: scores the first `n` rows of
 * a sample and requires probabilities in [0, 1]. Returns them as evidence for the ledger.
 */
export function smokeTest(modelText: string, sampleCsv: string, n: number): number[] {
  const model = loadModel(modelText);
  const { rows } = parseCsv(sampleCsv, 'smoke-test sample');
  const predictions = rows.slice(0, n).map((row) => predictProba(model, row));
  const bad = predictions.find((p) => !(p >= 0 && p <= 1));
  if (bad !== undefined) throw new ArtifactValidationError(`model predicted ${bad} on the smoke-test sample`);
  return predictions.map((p) => Math.round(p * 1e4) / 1e4);
}

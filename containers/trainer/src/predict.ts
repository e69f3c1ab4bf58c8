import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONTRACT_ENV } from '../../../lambdas/contracts/trainer.js';
import { loadModel, predictProba } from '../../../lambdas/domain/ml/artifact.js';
import { parseCsv } from '../../../lambdas/domain/ml/dataset.js';
import type { RawRow } from '../../../lambdas/domain/ml/features.js';
import { fail, requireEnv } from './contract.js';

/**
 * Predict entry of the reference trainer under contract v1: loads MLCYCLE_MODEL_DIR/model.json
 * and writes P(target = 1) for each row of MLCYCLE_INPUT (.csv with a header, or .jsonl with one
 * object per line, null or an absent key being a missing value), one JSON number per line, in
 * order. Columns are taken by name; extra ones are ignored. An empty input gives an empty file.
 */
function readRows(path: string, features: readonly string[]): RawRow[] {
  const text = readFileSync(path, 'utf8');
  if (path.endsWith('.jsonl')) {
    return text
      .split('\n')
      .filter((line) => line.trim())
      .map((line, i) => {
        let row: unknown;
        try {
          row = JSON.parse(line);
        } catch {
          fail(`MLCYCLE_INPUT line ${i + 1} is not JSON: ${JSON.stringify(line.slice(0, 60))}`);
        }
        if (typeof row !== 'object' || row === null || Array.isArray(row)) {
          fail(`MLCYCLE_INPUT line ${i + 1} is not a JSON object: ${line.slice(0, 60)}`);
        }
        return row as RawRow;
      });
  }
  // A header alone (or nothing) is an empty input, not an error.
  if (
    text
      .replace(/^\uFEFF/, '')
      .trim()
      .split(/\r?\n/).length < 2
  )
    return [];
  const { columns, rows } = parseCsv(text, 'MLCYCLE_INPUT');
  const missing = features.find((f) => !columns.includes(f));
  if (missing !== undefined) {
    fail(
      `MLCYCLE_INPUT has no column "${missing}", a feature of this model (columns: ${columns.join(', ')})`,
    );
  }
  return rows;
}

function main(): void {
  const task = requireEnv(CONTRACT_ENV.task);
  if (task !== 'binary') fail(`task ${task} is not supported: this trainer does binary`);
  const model = loadModel(readFileSync(join(requireEnv(CONTRACT_ENV.modelDir), 'model.json'), 'utf8'));
  const rows = readRows(
    requireEnv(CONTRACT_ENV.input),
    model.features.map((f) => f.name),
  );
  const lines = rows.map((row) => `${JSON.stringify(predictProba(model, row))}\n`);
  writeFileSync(requireEnv(CONTRACT_ENV.predictions), lines.join(''));
}

try {
  main();
} catch (err) {
  fail(err);
}

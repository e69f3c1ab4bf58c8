import type { TaskType } from '../../contracts/trainer.js';

/** One prediction: a probability (binary), {label: probability} (multiclass) or a value (regression). */
export type Prediction = number | Readonly<Record<string, number>>;

export type PredictionsResult =
  | { readonly ok: true; readonly predictions: readonly Prediction[] }
  | { readonly ok: false; readonly problem: string };

/** How far a multiclass row's probabilities may sum from 1 (float32 softmax, rounding). */
export const PROBABILITY_SUM_TOLERANCE = 1e-3;

/**
 * Reads a predict entry's MLCYCLE_PREDICTIONS file: exactly one JSON value per input row, in
 * order, of the task's shape. The first problem is reported with its line number.
 */
export function parsePredictions(task: TaskType, text: string, expectedRows: number): PredictionsResult {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines.length !== expectedRows) {
    return { ok: false, problem: `${lines.length} prediction lines for ${expectedRows} input rows` };
  }
  const predictions: Prediction[] = [];
  let labels: string | undefined;
  for (const [index, line] of lines.entries()) {
    const where = `prediction line ${index + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return { ok: false, problem: `${where} is not JSON: ${JSON.stringify(line.slice(0, 60))}` };
    }
    const isProbability = (v: unknown): v is number => typeof v === 'number' && v >= 0 && v <= 1;
    if (task === 'regression') {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        return { ok: false, problem: `${where}: got ${line.slice(0, 60)}, expected a finite number` };
      }
    } else if (task === 'binary') {
      if (!isProbability(value)) {
        return {
          ok: false,
          problem: `${where}: got ${line.slice(0, 60)}, expected the positive class's probability in [0, 1]`,
        };
      }
    } else {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        return { ok: false, problem: `${where}: got ${line.slice(0, 60)}, expected {label: probability}` };
      }
      const entries = Object.entries(value);
      const bad = entries.find(([, p]) => !isProbability(p));
      if (entries.length < 2 || bad) {
        return {
          ok: false,
          problem: `${where}: got ${line.slice(0, 60)}, expected at least two labels with probabilities in [0, 1]`,
        };
      }
      const sum = entries.reduce((total, [, p]) => total + (p as number), 0);
      if (Math.abs(sum - 1) > PROBABILITY_SUM_TOLERANCE) {
        return { ok: false, problem: `${where}: probabilities sum to ${sum}, not 1` };
      }
      const keys = entries
        .map(([label]) => label)
        .sort()
        .join(',');
      if (labels !== undefined && keys !== labels) {
        return { ok: false, problem: `${where}: labels ${keys} differ from line 1's ${labels}` };
      }
      labels = keys;
    }
    predictions.push(value as Prediction);
  }
  return { ok: true, predictions };
}

import { ValidationError } from '../errors.js';
import type { Hyperparameters } from './hyperparameters.js';
import { auc, logLoss } from './metrics.js';
import { Random } from './random.js';

export interface EpochReport {
  readonly epoch: number;
  /** Mean log loss on the training rows plus the L2 penalty. */
  readonly trainLoss: number;
  /** Mean log loss on the holdout (no penalty); null without a holdout. */
  readonly holdoutLoss: number | null;
  /** Null without a holdout, or when the holdout has a single class. */
  readonly holdoutAuc: number | null;
  readonly learningRate: number;
}

export interface FittedWeights {
  readonly weights: number[];
  readonly bias: number;
  readonly epochs: EpochReport[];
  /** The epoch whose weights were kept (the last one, or the best one with early stopping). */
  readonly keptEpoch: number;
}

export interface LabelledInputs {
  readonly xs: readonly Float64Array[];
  readonly ys: readonly number[];
}

export const sigmoid = (z: number): number =>
  z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));

export function score(x: Float64Array, weights: ArrayLike<number>, bias: number): number {
  let z = bias;
  for (let j = 0; j < x.length; j++) z += (x[j] as number) * (weights[j] as number);
  return sigmoid(z);
}

function meanLoss(data: LabelledInputs, w: Float64Array, b: number, l2: number) {
  const probabilities = data.xs.map((x) => score(x, w, b));
  let penalty = 0;
  for (const v of w) penalty += v * v;
  return { loss: logLoss(data.ys, probabilities) + (l2 / 2) * penalty, probabilities };
}

function hasBothClasses(ys: readonly number[]): boolean {
  return ys.includes(0) && ys.includes(1);
}

/** Step size for an epoch (1-based): constant, or cosine-annealed from the base rate towards 0. */
export function epochLearningRate(hp: Hyperparameters, epoch: number): number {
  if (hp.schedule === 'constant' || hp.epochs === 1) return hp.learningRate;
  return hp.learningRate * 0.5 * (1 + Math.cos((Math.PI * (epoch - 1)) / hp.epochs));
}

/**
 * L2-regularised logistic regression by seeded mini-batch gradient descent with Adam. The
 * intercept is not penalised. Reports train loss and, when given a holdout, its loss and AUC
 * after every epoch; with early stopping it keeps the best epoch's weights. Same inputs and
 * seed ⇒ the same weights, bit for bit.
 */
export function fitLogisticRegression(
  train: LabelledInputs,
  hp: Hyperparameters,
  holdout?: LabelledInputs,
  onEpoch?: (report: EpochReport) => void,
): FittedWeights {
  const { xs, ys } = train;
  const n = xs.length;
  if (n === 0 || n !== ys.length) {
    throw new ValidationError(`cannot fit on ${n} input rows with ${ys.length} labels`);
  }
  const d = xs[0]?.length ?? 0;
  const rng = new Random(hp.seed);
  const w = new Float64Array(d);
  for (let j = 0; j < d; j++) w[j] = rng.normal(0, 0.01);
  let b = 0;
  // Adam's moment estimates; index d is the intercept.
  const m = new Float64Array(d + 1);
  const v = new Float64Array(d + 1);
  const [beta1, beta2, eps] = [0.9, 0.999, 1e-8];
  let step = 0;
  const order = [...Array(n).keys()];
  const grad = new Float64Array(d + 1);
  const epochs: EpochReport[] = [];
  const scoreHoldout = holdout !== undefined && holdout.xs.length > 0;
  const holdoutHasBoth = scoreHoldout && hasBothClasses(holdout.ys);
  let best = { loss: Number.POSITIVE_INFINITY, w: Float64Array.from(w), b, epoch: 0 };

  for (let epoch = 1; epoch <= hp.epochs; epoch++) {
    const rate = epochLearningRate(hp, epoch);
    rng.shuffle(order);
    for (let start = 0; start < n; start += hp.batchSize) {
      const end = Math.min(n, start + hp.batchSize);
      grad.fill(0);
      for (let k = start; k < end; k++) {
        const i = order[k] as number;
        const x = xs[i] as Float64Array;
        const err = score(x, w, b) - (ys[i] as number);
        for (let j = 0; j < d; j++) grad[j] = (grad[j] as number) + err * (x[j] as number);
        grad[d] = (grad[d] as number) + err;
      }
      const size = end - start;
      step++;
      const correction1 = 1 - beta1 ** step;
      const correction2 = 1 - beta2 ** step;
      for (let j = 0; j <= d; j++) {
        const g = (grad[j] as number) / size + (j < d ? hp.l2 * (w[j] as number) : 0);
        m[j] = beta1 * (m[j] as number) + (1 - beta1) * g;
        v[j] = beta2 * (v[j] as number) + (1 - beta2) * g * g;
        const update =
          (rate * ((m[j] as number) / correction1)) / (Math.sqrt((v[j] as number) / correction2) + eps);
        if (j < d) w[j] = (w[j] as number) - update;
        else b -= update;
      }
    }
    const trainLoss = meanLoss(train, w, b, hp.l2).loss;
    if (!Number.isFinite(trainLoss) || !Number.isFinite(b)) {
      throw new ValidationError(
        `training diverged at epoch ${epoch} (train loss ${trainLoss}); lower learningRate (now ${hp.learningRate}) or raise l2 (now ${hp.l2})`,
      );
    }
    let holdoutLoss: number | null = null;
    let holdoutAuc: number | null = null;
    if (scoreHoldout) {
      const h = meanLoss(holdout, w, b, 0);
      holdoutLoss = h.loss;
      holdoutAuc = holdoutHasBoth ? auc(holdout.ys, h.probabilities) : null;
    }
    const report: EpochReport = { epoch, trainLoss, holdoutLoss, holdoutAuc, learningRate: rate };
    epochs.push(report);
    onEpoch?.(report);
    const monitored = holdoutLoss ?? trainLoss;
    if (monitored < best.loss) best = { loss: monitored, w: Float64Array.from(w), b, epoch };
    if (hp.earlyStoppingPatience > 0 && epoch - best.epoch >= hp.earlyStoppingPatience) break;
  }
  const kept = hp.earlyStoppingPatience > 0 ? best : { w, b, epoch: epochs.length };
  return { weights: [...kept.w], bias: kept.b, epochs, keptEpoch: kept.epoch };
}

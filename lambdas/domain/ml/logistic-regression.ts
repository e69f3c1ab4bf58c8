import type { Hyperparameters } from './hyperparameters.js';
import { auc, logLoss } from './metrics.js';
import { Random } from './random.js';

export interface EpochReport {
  readonly epoch: number;
  readonly trainLoss: number;
  readonly holdoutLoss: number | null;
  readonly holdoutAuc: number | null;
}

export interface FittedWeights {
  readonly weights: number[];
  readonly bias: number;
  readonly epochs: EpochReport[];
}

const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

export function score(x: Float64Array, weights: ArrayLike<number>, bias: number): number {
  let z = bias;
  for (let j = 0; j < x.length; j++) z += (x[j] as number) * (weights[j] as number);
  return sigmoid(z);
}

function meanLoss(
  xs: readonly Float64Array[],
  ys: readonly number[],
  w: Float64Array,
  b: number,
  l2: number,
) {
  const probabilities = xs.map((x) => score(x, w, b));
  let penalty = 0;
  for (const v of w) penalty += v * v;
  return { loss: logLoss(ys, probabilities) + (l2 / 2) * penalty, probabilities };
}

/**
 * L2-regularised logistic regression by seeded mini-batch gradient descent with Adam. The
 * intercept is not penalised. Reports train loss and, when given a holdout, its loss and AUC
 * after every epoch; with early stopping it keeps the best epoch's weights.
 */
export function fitLogisticRegression(
  xs: readonly Float64Array[],
  ys: readonly number[],
  hp: Hyperparameters,
  holdout?: { xs: readonly Float64Array[]; ys: readonly number[] },
  onEpoch?: (report: EpochReport) => void,
): FittedWeights {
  const n = xs.length;
  const d = xs[0]?.length ?? 0;
  const rng = new Random(hp.seed);
  const w = new Float64Array(d);
  for (let j = 0; j < d; j++) w[j] = rng.normal(0, 0.01);
  let b = 0;
  const m = new Float64Array(d + 1);
  const v = new Float64Array(d + 1);
  const [beta1, beta2, eps] = [0.9, 0.999, 1e-8];
  let step = 0;
  const order = [...Array(n).keys()];
  const grad = new Float64Array(d + 1);
  const epochs: EpochReport[] = [];
  let best = { loss: Number.POSITIVE_INFINITY, w: Float64Array.from(w), b, epoch: 0 };

  for (let epoch = 1; epoch <= hp.epochs; epoch++) {
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
      for (let j = 0; j <= d; j++) {
        const g = (grad[j] as number) / size + (j < d ? hp.l2 * (w[j] as number) : 0);
        m[j] = beta1 * (m[j] as number) + (1 - beta1) * g;
        v[j] = beta2 * (v[j] as number) + (1 - beta2) * g * g;
        const update =
          (hp.learningRate * ((m[j] as number) / (1 - beta1 ** step))) /
          (Math.sqrt((v[j] as number) / (1 - beta2 ** step)) + eps);
        if (j < d) w[j] = (w[j] as number) - update;
        else b -= update;
      }
    }
    const train = meanLoss(xs, ys, w, b, hp.l2);
    let holdoutLoss: number | null = null;
    let holdoutAuc: number | null = null;
    if (holdout?.xs.length) {
      const h = meanLoss(holdout.xs, holdout.ys, w, b, 0);
      holdoutLoss = h.loss;
      holdoutAuc = auc(holdout.ys, h.probabilities);
    }
    const report = { epoch, trainLoss: train.loss, holdoutLoss, holdoutAuc };
    epochs.push(report);
    onEpoch?.(report);
    const monitored = holdoutLoss ?? train.loss;
    if (monitored < best.loss) best = { loss: monitored, w: Float64Array.from(w), b, epoch };
    if (hp.earlyStoppingPatience > 0 && epoch - best.epoch >= hp.earlyStoppingPatience) break;
  }
  const keep = hp.earlyStoppingPatience > 0 ? best : { w, b };
  return { weights: [...keep.w], bias: keep.b, epochs };
}

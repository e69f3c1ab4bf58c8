import type { Prediction } from './predictions.js';

/**
 * How far a deploy-time prediction may sit from the one the evaluation measured on the same row.
 * Both come from the same artifact and the same predict entry on CPU, so they should be equal;
 * the slack absorbs float formatting (a JSON writer printing 6 or 17 digits) and BLAS summation
 * order, nothing a changed model or a changed predict entry could hide in.
 */
export const AGREEMENT_TOLERANCE = { absolute: 1e-6, relative: 1e-4 } as const;

const close = (now: number, then: number) =>
  Math.abs(now - then) <= AGREEMENT_TOLERANCE.absolute + AGREEMENT_TOLERANCE.relative * Math.abs(then);

const show = (p: Prediction) => JSON.stringify(p).slice(0, 80);

/**
 * The first row where the predict entry's answer now differs from what the evaluation measured
 * (the image was rebuilt with other code under the same tag, the predict entry is not
 * deterministic, or the artifact is not the one evaluated), as one sentence; undefined when every
 * row agrees. Rows are compared in order: both files answer the same input rows.
 */
export function predictionDisagreement(
  deployTime: readonly Prediction[],
  evaluated: readonly Prediction[],
): string | undefined {
  if (deployTime.length !== evaluated.length) {
    return `${deployTime.length} answers now for ${evaluated.length} rows the evaluation scored`;
  }
  for (const [i, now] of deployTime.entries()) {
    const then = evaluated[i] as Prediction;
    if (agree(now, then)) continue;
    return `row ${i + 1}: the predict entry now answers ${show(now)}, the evaluation measured ${show(then)}`;
  }
  return undefined;
}

function agree(now: Prediction, then: Prediction): boolean {
  if (typeof now === 'number' || typeof then === 'number') {
    return typeof now === 'number' && typeof then === 'number' && close(now, then);
  }
  const labels = Object.keys(then);
  if (Object.keys(now).length !== labels.length) return false;
  return labels.every((label) => {
    const p = now[label];
    return typeof p === 'number' && close(p, then[label] as number);
  });
}

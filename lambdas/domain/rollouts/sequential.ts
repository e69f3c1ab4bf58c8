import type { MeanState, RateState } from '../../contracts/rollout-evidence.js';
import { meanOf, rateOf, varianceOf } from './evidence.js';

/**
 * The mixture sequential probability ratio test (mSPRT) with a normal mixture, as in Johari,
 * Pekelis & Walsh, "Always Valid Inference: Bringing Sequential Analysis to A/B Testing" (2017),
 * the statistics behind Optimizely's Stats Engine. For an estimate d̂ ~ N(θ, V) of a difference
 * and a mixture θ ~ N(θ₀, τ²) over the alternative:
 *
 *   Λ(θ₀) = √(V / (V + τ²)) · exp( (d̂ − θ₀)² τ² / (2 V (V + τ²)) )
 *
 * With V = 2σ²/n this is their Λₙ. Λ is a martingale under θ = θ₀, so by Ville's inequality
 * P(ever Λ ≥ 1/α) ≤ α: p = min over checks of 1/Λ is an always-valid p-value, and
 * {θ₀ : Λ(θ₀) < 1/α} is a confidence sequence, d̂ ± √(V(V+τ²)/τ² · (2 ln(1/α) + ln((V+τ²)/V))),
 * both valid however often they are looked at. Variances are plug-in estimates, so validity is
 * asymptotic (the normal approximation: hence a minimum sample before deciding). τ is the effect
 * size one cares about; the test is most powerful near it.
 */

export interface Estimate {
  /** d̂: treatment − control. */
  estimate: number;
  /** V: the variance of d̂. */
  variance: number;
}

/** ln Λ(θ₀) of the normal-mixture SPRT. */
export function msprtLogLR(e: Estimate, tau: number, theta0 = 0): number {
  const v = e.variance;
  const t2 = tau * tau;
  const d = e.estimate - theta0;
  return 0.5 * Math.log(v / (v + t2)) + (d * d * t2) / (2 * v * (v + t2));
}

/** 1/Λ(θ₀) capped at 1 (take the running minimum over checks for the always-valid p-value). */
export function msprtPValue(e: Estimate, tau: number, theta0 = 0): number {
  if (!(e.variance > 0)) return 1;
  return Math.min(1, Math.exp(-msprtLogLR(e, tau, theta0)));
}

/** The confidence sequence at level 1 − α at this check. */
export function confidenceSequence(e: Estimate, tau: number, alpha: number): [number, number] {
  const v = e.variance;
  if (!(v > 0)) return [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY];
  const t2 = tau * tau;
  const half = Math.sqrt(((v * (v + t2)) / t2) * (2 * Math.log(1 / alpha) + Math.log((v + t2) / v)));
  return [e.estimate - half, e.estimate + half];
}

/** Difference in means of one stratum (Welch variance); undefined below two values a side. */
export function meanDifference(control: MeanState, treatment: MeanState): Estimate | undefined {
  if (control.n < 2 || treatment.n < 2) return undefined;
  const variance = varianceOf(control) / control.n + varianceOf(treatment) / treatment.n;
  if (!(variance > 0)) return undefined;
  return { estimate: meanOf(treatment) - meanOf(control), variance };
}

/**
 * Difference in proportions (normal approximation, unpooled). Each side's variance uses
 * (s + ½)/(n + 1) so a side with no successes yet still has a variance.
 */
export function rateDifference(control: RateState, treatment: RateState): Estimate | undefined {
  if (!control.trials || !treatment.trials) return undefined;
  const v = (s: RateState) => {
    const p = (s.successes + 0.5) / (s.trials + 1);
    return (p * (1 - p)) / s.trials;
  };
  return { estimate: rateOf(treatment) - rateOf(control), variance: v(control) + v(treatment) };
}

/**
 * Inverse-variance combination of per-ramp-step estimates: each step compares the arms under the
 * same weights and the same time window, so a ramp does not mix time effects into the difference.
 */
export function combineStrata(strata: readonly (Estimate | undefined)[]): Estimate | undefined {
  let w = 0;
  let wd = 0;
  for (const s of strata) {
    if (!s || !(s.variance > 0)) continue;
    w += 1 / s.variance;
    wd += s.estimate / s.variance;
  }
  return w > 0 ? { estimate: wd / w, variance: 1 / w } : undefined;
}

/** Standard normal upper tail P(Z > z) (erfc, Numerical Recipes' Chebyshev fit, rel. error < 1.2e-7). */
export function normalSurvival(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const erfc =
    t *
    Math.exp(
      -x * x -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}

/** The fixed-horizon two-sided z-test p-value: valid for ONE look only (the naive comparison). */
export function fixedHorizonPValue(e: Estimate): number {
  if (!(e.variance > 0)) return 1;
  return 2 * normalSurvival(Math.abs(e.estimate) / Math.sqrt(e.variance));
}

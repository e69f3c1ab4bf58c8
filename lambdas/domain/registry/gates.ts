import type { GateConfig, MetricName } from '../../contracts/config-schema.js';
import { HIGHER_IS_BETTER, isReportedMetric, REPORTED_PREFIX } from '../../contracts/config-schema.js';
import type { GateOutcome, GateResult, Metrics } from '../../contracts/pipeline.js';
import { ValidationError } from '../errors.js';

const compare: Record<string, (a: number, b: number) => boolean> = {
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
  '==': (a, b) => Math.abs(a - b) <= 1e-12,
};

const fmt = (n: number) => Number(n.toFixed(6)).toString();

function metricOf(
  metrics: Partial<Metrics>,
  metric: MetricName,
  whose: string,
  reported: Readonly<Record<string, number>> = {},
): number {
  const value = metrics[metric];
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    const claimed = reported[metric];
    if (typeof claimed === 'number') {
      throw new ValidationError(
        `gate on "${metric}" cannot be checked: ${whose}'s ${metric} was not measured by mlcycle ` +
          `(${claimed} was only reported at registration, and gates run on measured metrics)`,
      );
    }
    throw new ValidationError(
      `gate on "${metric}" cannot be checked: ${whose} has no ${metric} (it has: ${Object.keys(metrics).join(', ') || 'no metrics'})`,
    );
  }
  return value;
}

type AbsoluteGate = Extract<GateConfig, { operator: string }>;

/** A gate on a metric the trainer reported: checked, and said to be reported, never measured. */
function reportedGate(gate: AbsoluteGate, reported: Readonly<Record<string, number>>): GateResult {
  const name = gate.metric.slice(REPORTED_PREFIX.length);
  const value = reported[name];
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ValidationError(
      `gate on "${gate.metric}" cannot be checked: the trainer reported no ${name} ` +
        `(it reported: ${Object.keys(reported).join(', ') || 'nothing'})`,
    );
  }
  return absoluteResult(
    gate,
    value,
    `${name} ${fmt(value)} (reported by the trainer, not measured by mlcycle)`,
  );
}

/** An absolute gate's verdict on a value; `measured` says what the value is, for the detail. */
function absoluteResult(gate: AbsoluteGate, value: number, measured: string): GateResult {
  const passed = (compare[gate.operator] as (a: number, b: number) => boolean)(value, gate.threshold);
  return {
    metric: gate.metric,
    kind: 'absolute',
    operator: gate.operator,
    threshold: gate.threshold,
    value,
    required: gate.required,
    passed,
    detail: `${measured} ${passed ? 'meets' : 'fails'} ${gate.operator} ${gate.threshold}`,
  };
}

/**
 * Checks an environment's gates. Absolute gates compare a metric with a threshold; relative
 * gates allow the candidate to be worse than the serving version by at most a margin, in the
 * metric's own direction (lower log loss is better). Advisory gates are reported, never block.
 */
export function evaluateGates(
  gates: readonly GateConfig[],
  metrics: Partial<Metrics>,
  serving: { version: string; metrics: Partial<Metrics> } | null,
  approvalRequired: boolean,
  /** Metrics the candidate's registrant reported: named in the refusal, never compared. */
  reported: Readonly<Record<string, number>> = {},
): GateOutcome {
  const results: GateResult[] = gates.map((gate) => {
    if (isReportedMetric(gate.metric)) return reportedGate(gate as AbsoluteGate, reported);
    const value = metricOf(metrics, gate.metric as MetricName, 'the candidate', reported);
    if ('operator' in gate) return absoluteResult(gate, value, `${gate.metric} ${fmt(value)}`);
    const higher = HIGHER_IS_BETTER[gate.metric];
    if (!serving) {
      return {
        metric: gate.metric,
        kind: 'relative',
        operator: higher ? '>=' : '<=',
        threshold: Number.NaN,
        value,
        servingValue: null,
        required: gate.required,
        passed: true,
        detail: `no version serves this stage yet, so there is nothing to be worse than`,
      };
    }
    const base = metricOf(serving.metrics, gate.metric, `serving version ${serving.version}`);
    const threshold = higher ? base - gate.noWorseThanServingBy : base + gate.noWorseThanServingBy;
    const passed = higher ? value >= threshold - 1e-12 : value <= threshold + 1e-12;
    return {
      metric: gate.metric,
      kind: 'relative',
      operator: higher ? '>=' : '<=',
      threshold,
      value,
      servingValue: base,
      required: gate.required,
      passed,
      detail: `${gate.metric} ${fmt(value)} vs ${fmt(base)} serving (${serving.version}); allowed to be worse by ${gate.noWorseThanServingBy}`,
    };
  });
  // JSON has no NaN: a relative gate with nothing serving carries no threshold.
  const clean = results.map((r) => (Number.isNaN(r.threshold) ? { ...r, threshold: 0 } : r));
  return {
    passed: clean.every((r) => r.passed || !r.required),
    approvalRequired,
    servingVersion: serving?.version ?? null,
    results: clean,
  };
}

import { EXECUTION_TIMEOUT_SECONDS, executionBudget } from '../../contracts/budgets.js';
import { HIGHER_IS_BETTER, METRICS_BY_TASK } from '../../contracts/config-gates.js';
import {
  epochMetricDirection,
  type SweepParameter,
  type SweepPlan,
  type SweepSpec,
} from '../../contracts/sweep.js';
import type { DeployedTrainer, HyperparameterValue, TaskType } from '../../contracts/trainer.js';
import { ValidationError } from '../errors.js';
import { checkOverrides } from '../ml/trainer-config.js';
import { generateTrials } from './trials.js';

export interface SweepTarget {
  readonly model: string;
  readonly task: TaskType;
  /** The trainer schema of the deployed config (config.trainers[model]). */
  readonly trainer: DeployedTrainer | undefined;
  /** The model's configured hyperparameters, which each trial's overrides replace. */
  readonly base: Readonly<Record<string, HyperparameterValue>>;
}

const label = (key: string, value: string) => `sweep parameters.${key}=${value}`;

/** A range's kind against the declared type: sampling a number into an integer would be refused trial by trial. */
function checkKind(target: SweepTarget, name: string, p: SweepParameter): void {
  const spec = target.trainer?.hyperparameters[name];
  if (!spec) return; // checkOverrides names the unknown key with the declared ones
  const ranged =
    'uniform' in p ? 'uniform' : 'logUniform' in p ? 'logUniform' : 'int' in p ? 'int' : undefined;
  if (!ranged) return;
  const numeric = spec.type === 'number' || spec.type === 'integer';
  if (!numeric || ((ranged === 'uniform' || ranged === 'logUniform') && spec.type === 'integer')) {
    throw new ValidationError(
      `sweep parameters.${name}: ${ranged} samples ${ranged === 'int' ? 'integers' : 'real numbers'}, but ${target.trainer?.folder} declares ${name} as ${spec.type}; ` +
        (spec.type === 'integer' ? 'use int or grid' : 'list its values with grid or choice'),
    );
  }
}

/** Every value a parameter can take at its edges (ranges) or in full (lists), checked like `--set`. */
function edgeValues(p: SweepParameter): readonly HyperparameterValue[] {
  if ('grid' in p) return p.grid;
  if ('choice' in p) return p.choice;
  if ('int' in p) return p.int;
  if ('uniform' in p) return p.uniform;
  return p.logUniform;
}

/**
 * A sweep spec checked against the model and its trainer's declared hyperparameters (the same
 * validation as `pipeline start --set`, each error naming the parameter and what to do), then
 * planned: its trials with their full hyperparameters, the Map's concurrency, and the rules
 * every trial is held to. Pure and deterministic by the spec's seed.
 */
export function planSweep(
  target: SweepTarget,
  spec: SweepSpec,
  id: string,
): SweepPlan & { message?: string } {
  const measured = METRICS_BY_TASK[target.task];
  if (!measured.includes(spec.metric)) {
    throw new ValidationError(
      `sweep metric ${spec.metric} is not measured for ${target.model}, a ${target.task} model: choose one of ${measured.join(', ')}`,
    );
  }
  for (const [name, p] of Object.entries(spec.parameters)) {
    checkKind(target, name, p);
    for (const v of edgeValues(p))
      checkOverrides(target.model, target.trainer, target.base, { [name]: v }, label);
  }
  const generated = generateTrials(spec);
  const trials = generated.trials.map((overrides, index) => {
    const coerced = checkOverrides(target.model, target.trainer, target.base, overrides, label);
    return { index, overrides: coerced, hyperparameters: { ...target.base, ...coerced } };
  });
  const e = spec.earlyStopping;
  return {
    rules: {
      id,
      metric: spec.metric,
      direction: spec.direction ?? (HIGHER_IS_BETTER[spec.metric] ? 'max' : 'min'),
      earlyStopping: {
        rule: e.rule,
        minEpochs: e.minEpochs,
        reductionFactor: e.reductionFactor,
        metric: e.metric ?? '',
        direction: e.direction ?? epochMetricDirection(e.metric ?? ''),
      },
    },
    concurrency: spec.concurrency,
    trials,
    ...(generated.gridSize ? { gridSize: generated.gridSize } : {}),
    ...(generated.message ? { message: generated.message } : {}),
  };
}

/** Seconds a trial's Lambda steps may take at most (PrepareRun, CheckTrial, Evaluate timeouts). */
const TRIAL_LAMBDA_SECONDS = 60 + 60 + 300;

/**
 * Whether a sweep fits in one execution: ⌈trials / concurrency⌉ rounds of a trial's Train and
 * Predict budgets (and its Lambda steps), then the best's smoke test and the approval wait,
 * against the execution timeout (contracts/budgets.ts). The reason, or null when it fits.
 */
export function sweepBudgetProblem(
  plan: { readonly trials: number; readonly concurrency: number },
  training: { readonly taskTimeoutSeconds: number; readonly predictTaskTimeoutSeconds: number },
  approvalWaitSeconds: number,
): string | null {
  const rounds = Math.ceil(plan.trials / plan.concurrency);
  const trial = training.taskTimeoutSeconds + training.predictTaskTimeoutSeconds + TRIAL_LAMBDA_SECONDS;
  const budget = executionBudget({
    trainTaskSeconds: rounds * trial + training.predictTaskTimeoutSeconds,
    approvalWaitSeconds,
  });
  if (budget.fits) return null;
  const days = (s: number) => (s / 86400).toFixed(1);
  return (
    `a sweep of ${plan.trials} trial(s), ${plan.concurrency} at once, may take ${days(budget.totalSeconds)} days ` +
    `(${rounds} round(s) of a trial's Train and Predict budgets, ${days(trial)} days each, and the approval wait), ` +
    `longer than an execution may run (${days(EXECUTION_TIMEOUT_SECONDS)} days): raise concurrency, lower trials, or lower training.timeoutMinutes`
  );
}

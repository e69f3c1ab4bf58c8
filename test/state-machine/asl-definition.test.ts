import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { lifecycleJobName, smokeJobName, TRIAL_JOB_PARAMETER } from '../../lambdas/contracts/batch-jobs.js';
import { ERROR_NAMES } from '../../lambdas/contracts/errors.js';
import { ASL_PLACEHOLDERS, HANDLERS } from '../../lambdas/contracts/handlers.js';
import { STAGER_ENV, TRAIN_JOB_CONTAINERS } from '../../lambdas/contracts/stager.js';
import { aslPlaceholders } from '../../lambdas/contracts/state-machine.js';
import { localSubstitutions } from '../../local/runtime.js';
import { loadDefinition } from '../../local/stepfunctions/definition.js';

const FILE = 'state-machines/lifecycle.asl.json';
const text = readFileSync(FILE, 'utf8');
const asl = JSON.parse(text) as { StartAt: string; States: Record<string, Record<string, unknown>> };

// Errors AWS raises for Lambda and Batch service integrations, which Retry may name.
const SERVICE_ERRORS = new Set([
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Batch.ServerException',
  'Batch.TooManyRequestsException',
]);

describe('lifecycle ASL', () => {
  it('is valid Amazon States Language', async () => {
    const { default: aslValidator } = await import('asl-validator');
    const result = aslValidator(asl);
    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('names the lifecycle states the product promises', () => {
    for (const name of ['Train', 'Evaluate', 'Register', 'Gate', 'Approve', 'Deploy']) {
      expect(asl.States[name], name).toBeDefined();
    }
  });

  it('matches only States.* errors, service errors, or errors the handlers throw', () => {
    const known = new Set<string>([...Object.values(ERROR_NAMES), ...SERVICE_ERRORS]);
    const named: string[] = [];
    for (const state of Object.values(asl.States)) {
      for (const field of ['Retry', 'Catch'] as const) {
        for (const rule of (state[field] as { ErrorEquals: string[] }[] | undefined) ?? [])
          named.push(...rule.ErrorEquals);
      }
    }
    expect(named.length).toBeGreaterThan(10);
    const unknown = named.filter((e) => !e.startsWith('States.') && !known.has(e));
    expect(unknown).toEqual([]);
  });

  it('ends a run PrepareRun skips (RetrainSkipped) in a Succeed state, caught before States.ALL', () => {
    const catches = asl.States.PrepareRun?.Catch as {
      ErrorEquals: string[];
      Next: string;
      ResultPath: string;
    }[];
    expect(catches[0]).toEqual({
      ErrorEquals: [ERROR_NAMES.retrainSkipped],
      ResultPath: '$.skipped',
      Next: 'Skipped',
    });
    expect(catches.at(-1)?.ErrorEquals).toEqual(['States.ALL']);
    expect(asl.States.Skipped?.Type).toBe('Succeed');
    // Nothing else reaches it: a skip is PrepareRun's decision only.
    const into = Object.entries(asl.States).filter(([, st]) =>
      JSON.stringify([st.Next, st.Catch, st.Choices, st.Default]).includes('"Skipped"'),
    );
    expect(into.map(([n]) => n)).toEqual(['PrepareRun']);
  });

  it('retries only transient errors, never States.ALL', () => {
    for (const [name, state] of Object.entries(asl.States)) {
      for (const rule of (state.Retry as { ErrorEquals: string[]; BackoffRate?: number }[] | undefined) ??
        []) {
        expect(rule.ErrorEquals, name).not.toContain('States.ALL');
        expect(rule.ErrorEquals, name).not.toContain('States.TaskFailed');
        expect(rule.BackoffRate ?? 1, name).toBeGreaterThan(1);
      }
    }
  });

  it('retries RecordFailure for minutes (transient errors and its own timeout), with the execution id to alert once', () => {
    const state = asl.States.RecordFailure as {
      Parameters?: Record<string, string>;
      Retry?: {
        ErrorEquals: string[];
        MaxAttempts?: number;
        IntervalSeconds?: number;
        BackoffRate?: number;
        MaxDelaySeconds?: number;
      }[];
    };
    expect(state.Parameters).toEqual({ 'executionArn.$': '$$.Execution.Id', 'state.$': '$' });
    const retry = state.Retry?.find((r) => r.ErrorEquals.includes('TransientError'));
    expect(retry?.ErrorEquals).toEqual(
      expect.arrayContaining(['TransientError', 'States.Timeout', 'Lambda.ServiceException']),
    );
    expect(retry?.MaxAttempts ?? 0).toBeGreaterThanOrEqual(6);
    // The longest it keeps trying (before jitter): at least two minutes.
    let total = 0;
    for (let i = 0; i < (retry?.MaxAttempts ?? 0); i++) {
      total += Math.min(
        (retry?.IntervalSeconds ?? 1) * (retry?.BackoffRate ?? 2) ** i,
        retry?.MaxDelaySeconds ?? Infinity,
      );
    }
    expect(total).toBeGreaterThanOrEqual(120);
  });

  it('gives every Task a timeout (locally a Task without one times out after 60 s)', () => {
    for (const [name, state] of Object.entries(asl.States)) {
      if (state.Type !== 'Task') continue;
      expect(Boolean(state.TimeoutSeconds || state.TimeoutSecondsPath), name).toBe(true);
    }
  });

  it('has a placeholder for every pipeline Lambda and nothing else unknown', () => {
    const lambdaPlaceholders = Object.values(HANDLERS).flatMap((h) =>
      'aslPlaceholder' in h ? [h.aslPlaceholder] : [],
    );
    expect(aslPlaceholders(text)).toEqual([...lambdaPlaceholders, ...Object.values(ASL_PLACEHOLDERS)].sort());
  });

  it('loads with the local substitutions, leaving no placeholder behind', () => {
    const def = loadDefinition(FILE, localSubstitutions('mlcycle'));
    expect(JSON.stringify(def)).not.toMatch(/\$\{/);
    expect(() => loadDefinition(FILE, {})).toThrow(/no value for placeholder/);
    // As the stack: a value without a placeholder is a mistake too (a renamed placeholder, say).
    expect(() => loadDefinition(FILE, { ...localSubstitutions('mlcycle'), StrayFunctionArn: 'arn' })).toThrow(
      /no placeholder for substitution\(s\) StrayFunctionArn/,
    );
  });

  it('routes every failure through RecordFailure to a named Fail state', () => {
    const failStates = Object.entries(asl.States).filter(([, s]) => s.Type === 'Fail');
    expect(failStates.map(([n]) => n)).toEqual(
      expect.arrayContaining([
        'TrainingFailed',
        'GateFailed',
        'ApprovalRejected',
        'ApprovalTimedOut',
        'DeployFailed',
      ]),
    );
    for (const [name, state] of Object.entries(asl.States)) {
      for (const c of (state.Catch as { Next: string }[] | undefined) ?? []) {
        const next = asl.States[c.Next];
        expect(next, `${name} catch`).toBeDefined();
        if (name !== 'PrepareRun' && name !== 'LoadCandidate' && name !== 'RecordFailure') {
          expect(next?.Next, `${name} → ${c.Next}`).toBe('RecordFailure');
        }
      }
    }
  });

  it('names the Batch jobs as lifecycleJobName and smokeJobName do (runs logs and the end of an execution find them so)', () => {
    const sample: Record<string, string> = {
      '$.model': 'churn',
      '$.run.runId': 'r1',
      '$.execution.name': 'e1',
    };
    const nameOf = (state: string) => {
      const params = (asl.States[state]?.Parameters ?? {}) as Record<string, unknown>;
      const format = String(params['JobName.$']);
      const m = /^States\.Format\('([^']*)', (.*)\)$/.exec(format);
      if (!m) throw new Error(`${state}: JobName.$ is ${format}`);
      const args = (m[2] ?? '').split(', ').map((a) => sample[a] ?? `?${a}`);
      return (m[1] ?? '').replace(/\{\}/g, () => args.shift() ?? '?');
    };
    expect(nameOf('Train')).toBe(lifecycleJobName('train', 'churn', 'r1'));
    expect(nameOf('Predict')).toBe(lifecycleJobName('predict', 'churn', 'r1'));
    expect(nameOf('SmokePredict')).toBe(smokeJobName('e1'));
  });

  describe('the Trials Map of a sweep', () => {
    const map = asl.States.Trials as Record<string, unknown> & {
      ItemProcessor: { StartAt: string; States: Record<string, Record<string, unknown>> };
    };
    const inner = map.ItemProcessor.States;

    it('is chosen first by Mode? for a state with $.sweep, and reads its items and concurrency from the state', () => {
      const choices = (asl.States['Mode?'] as { Choices: { Variable: string; Next: string }[] }).Choices;
      expect(choices[0]).toEqual({ Variable: '$.sweep', IsPresent: true, Next: 'Trials' });
      expect(map.Type).toBe('Map');
      expect(map.ItemsPath).toBe('$.sweep.trials');
      expect(map.MaxConcurrencyPath).toBe('$.sweep.concurrency');
      expect(map.Next).toBe('PickBest');
      expect(asl.States.PickBest?.Next).toBe('Register');
      // A Map that fails as a whole (and PickBest with no trial evaluated) is a training failure.
      for (const name of ['Trials', 'PickBest']) {
        const catches = asl.States[name]?.Catch as { ErrorEquals: string[]; Next: string }[];
        expect(catches.at(-1), name).toMatchObject({
          ErrorEquals: ['States.ALL'],
          Next: 'OnTrainingFailure',
        });
      }
    });

    it('trains each trial as a run: the same Lambdas, job definitions and job names as Train and Predict', () => {
      expect(map.ItemProcessor.StartAt).toBe('TrialPrepare');
      expect(inner.TrialPrepare?.Resource).toBe(asl.States.PrepareRun?.Resource);
      expect(inner.TrialEvaluate?.Resource).toBe(asl.States.Evaluate?.Resource);
      for (const [trial, run] of [
        ['TrialTrain', 'Train'],
        ['TrialPredict', 'Predict'],
      ] as const) {
        const params = inner[trial]?.Parameters as Record<string, unknown>;
        const runParams = asl.States[run]?.Parameters as Record<string, unknown>;
        expect(inner[trial]?.Resource, trial).toBe(asl.States[run]?.Resource);
        for (const key of ['JobName.$', 'JobQueue', 'JobDefinition.$', 'Timeout']) {
          expect(params[key], `${trial} ${key}`).toEqual(runParams[key]);
        }
        // The trial's Train job also copies its progress (early stopping while it trains).
        const withoutProgress = JSON.parse(
          JSON.stringify(params.EcsPropertiesOverride, (k, v) =>
            Array.isArray(v) && k === 'Environment'
              ? v.filter((e: { Name: string }) => e.Name !== STAGER_ENV.progressSeconds)
              : v,
          ),
        );
        expect(withoutProgress, `${trial} EcsPropertiesOverride`).toEqual(runParams.EcsPropertiesOverride);
        expect(inner[trial]?.TimeoutSecondsPath, trial).toBe(asl.States[run]?.TimeoutSecondsPath);
      }
    });

    it("copies a trial's training progress and marks its Train job as a trial's, and only a trial's", () => {
      const containers = (state: Record<string, unknown> | undefined) =>
        (
          (state?.Parameters as Record<string, unknown> | undefined)?.EcsPropertiesOverride as
            | {
                TaskProperties: {
                  Containers: { Name: string; Environment: { Name: string; Value?: string }[] }[];
                }[];
              }
            | undefined
        )?.TaskProperties[0]?.Containers ?? [];
      const progressOf = (state: Record<string, unknown> | undefined) =>
        containers(state)
          .find((c) => c.Name === TRAIN_JOB_CONTAINERS.checkpointSync)
          ?.Environment.find((e) => e.Name === STAGER_ENV.progressSeconds)?.Value;
      expect(progressOf(inner.TrialTrain)).toBe('15');
      expect(progressOf(asl.States.Train)).toBeUndefined();
      const jobParameters = (state: Record<string, unknown> | undefined) =>
        (state?.Parameters as { Parameters: Record<string, string> } | undefined)?.Parameters ?? {};
      expect(jobParameters(inner.TrialTrain)[TRIAL_JOB_PARAMETER]).toBe('true');
      for (const name of ['Train', 'Predict', 'SmokePredict'])
        expect(jobParameters(asl.States[name])[TRIAL_JOB_PARAMETER], name).toBeUndefined();
      expect(jobParameters(inner.TrialPredict)[TRIAL_JOB_PARAMETER]).toBeUndefined();
    });

    it('catches every failure of a trial in its own iteration, gives every task a timeout, retries only transient errors', () => {
      const known = new Set<string>([...Object.values(ERROR_NAMES), ...SERVICE_ERRORS]);
      for (const [name, state] of Object.entries(inner)) {
        if (state.Type === 'Task') {
          expect(Boolean(state.TimeoutSeconds || state.TimeoutSecondsPath), name).toBe(true);
          const catches = state.Catch as { ErrorEquals: string[]; Next: string }[];
          expect(catches, name).toEqual([
            { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'TrialFailed' },
          ]);
          for (const rule of (state.Retry as { ErrorEquals: string[] }[] | undefined) ?? []) {
            expect(rule.ErrorEquals, name).not.toContain('States.ALL');
            expect(
              rule.ErrorEquals.filter((e) => !e.startsWith('States.') && !known.has(e)),
              name,
            ).toEqual([]);
          }
        }
      }
      for (const end of ['TrialEvaluated', 'TrialStopped', 'TrialFailed']) {
        expect(inner[end]?.Type, end).toBe('Pass');
        expect(inner[end]?.End, end).toBe(true);
        expect((inner[end]?.Parameters as Record<string, unknown> | undefined)?.['index.$'], end).toBe(
          '$.trial.index',
        );
      }
    });
  });
});

import { chmodSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { predictModeEnv, trainModeEnv } from '../../lambdas/contracts/trainer.js';
import { runTrainerLocally } from '../../local/trainers/run.js';
import { discoverRuntime, SYSTEM_PYTHON } from '../../local/trainers/runtime.js';
import { workspace, write } from './support.js';

/**
 * Host-runtime discovery and the local runner. A python3 "without packages" is the real one run
 * with -S (no site-packages): what a pyenv or venv python3 first on PATH often is.
 */

const ws = workspace('trainer-runtime');
afterAll(() => ws.remove());

const bareBin = ws.dir('bare-bin');
const barePython = write(`${bareBin}/python3`, `#!/bin/sh\nexec ${SYSTEM_PYTHON} -S "$@"\n`);
chmodSync(barePython, 0o755);
const emptyBin = ws.dir('empty-bin');
const hostEnv = (extra: NodeJS.ProcessEnv) => ({ HOME: process.env.HOME, ...extra });

const SKLEARN = {
  runtime: 'python3',
  requires: ['sklearn', 'numpy'],
  trainerLabel: 'containers/sklearn-ltv',
  trainerDir: '.',
} as const;

describe('host-runtime discovery', () => {
  it('skips a python3 on PATH that lacks the modules and finds Debian’s', async () => {
    const found = await discoverRuntime({ ...SKLEARN, env: hostEnv({ PATH: bareBin }) });
    expect(found.executable).toBe(SYSTEM_PYTHON);
    expect(found.modules.sklearn).toMatch(/^1\./);
    expect(found.version).toMatch(/^3\./);
  });

  it('says in one line what to install when no interpreter has the modules', async () => {
    const env = hostEnv({ PATH: bareBin });
    await expect(discoverRuntime({ ...SKLEARN, env, systemPython: '/nonexistent/python3' })).rejects.toThrow(
      /^python3 with scikit-learn and NumPy is needed to run trainer containers\/sklearn-ltv locally: apt-get install python3-sklearn python3-numpy \(or set MLCYCLE_PYTHON to a python3 that has them\)$/,
    );
    await expect(
      discoverRuntime({
        ...SKLEARN,
        requires: ['torch'],
        trainerLabel: 'containers/torch-segment',
        env,
        systemPython: barePython,
      }),
    ).rejects.toThrow(
      'python3 with PyTorch is needed to run trainer containers/torch-segment locally: apt-get install python3-torch (or set MLCYCLE_PYTHON to a python3 that has it)',
    );
    await expect(
      discoverRuntime({ ...SKLEARN, env: hostEnv({ PATH: emptyBin }), systemPython: '/nonexistent/python3' }),
    ).rejects.toThrow(
      /^python3 is needed to run trainer containers\/sklearn-ltv locally: apt-get install python3 python3-sklearn python3-numpy /,
    );
  });

  it('uses MLCYCLE_PYTHON when set, and refuses it rather than silently using another', async () => {
    const chosen = await discoverRuntime({
      ...SKLEARN,
      env: hostEnv({ PATH: emptyBin, MLCYCLE_PYTHON: SYSTEM_PYTHON }),
    });
    expect(chosen.executable).toBe(SYSTEM_PYTHON);
    await expect(
      discoverRuntime({ ...SKLEARN, env: hostEnv({ PATH: '', MLCYCLE_PYTHON: barePython }) }),
    ).rejects.toThrow(
      `MLCYCLE_PYTHON=${barePython} lacks scikit-learn and NumPy, needed to run trainer containers/sklearn-ltv locally: install them there, or unset MLCYCLE_PYTHON to use Debian's python3 (apt-get install python3-sklearn python3-numpy)`,
    );
    await expect(
      discoverRuntime({ ...SKLEARN, env: hostEnv({ PATH: '', MLCYCLE_PYTHON: '/nonexistent/python' }) }),
    ).rejects.toThrow(/^MLCYCLE_PYTHON=\/nonexistent\/python does not run as a Python interpreter/);
  });

  it('resolves a node trainer’s modules from its folder', async () => {
    const node = await discoverRuntime({
      runtime: 'node',
      requires: ['zod'],
      trainerLabel: 't',
      trainerDir: process.cwd(),
    });
    expect(node.executable).toBe(process.execPath);
    await expect(
      discoverRuntime({
        runtime: 'node',
        requires: ['no-such-package-xyz'],
        trainerLabel: 't',
        trainerDir: process.cwd(),
      }),
    ).rejects.toThrow(/node modules no-such-package-xyz are needed to run trainer t locally/);
  });
});

describe('runTrainerLocally', () => {
  const trainEnv = (run: string) =>
    trainModeEnv({
      model: 'm',
      runId: run,
      codeVersion: 'test',
      task: 'binary',
      target: 'y',
      train: write(ws.path(`${run}.csv`), 'x,y\n1,0\n2,1\n'),
      hyperparameters: { epochs: 3, epoch_seconds: 5 },
      outputDir: ws.dir(run, 'output'),
      checkpointDir: ws.dir(run, 'checkpoint'),
      useGpu: false,
    });

  it('refuses to start without the contract environment, naming what is missing', async () => {
    const env = trainEnv('missing');
    const { MLCYCLE_TRAIN: _train, MLCYCLE_TASK: _task, ...partial } = env;
    await expect(
      runTrainerLocally({
        trainerDir: 'test/fixtures/trainers/resumable',
        mode: 'train',
        env: partial,
        logFile: ws.path('x.log'),
      }),
    ).rejects.toThrow(
      'test/fixtures/trainers/resumable train: the contract environment lacks MLCYCLE_TASK, MLCYCLE_TRAIN',
    );
    await expect(
      runTrainerLocally({
        trainerDir: 'test/fixtures/trainers/resumable',
        mode: 'predict',
        env,
        logFile: ws.path('x.log'),
      }),
    ).rejects.toThrow(
      /predict: the contract environment lacks MLCYCLE_MODEL_DIR, MLCYCLE_INPUT, MLCYCLE_PREDICTIONS/,
    );
  });

  it('runs the declared argv in the trainer folder with the interpreter it found, logging to a file', async () => {
    const env = predictModeEnv({
      task: 'binary',
      modelDir: '/none',
      input: '/none.csv',
      predictions: ws.path('p'),
    });
    const lines: string[] = [];
    const result = await runTrainerLocally({
      trainerDir: 'test/fixtures/trainers/crasher',
      mode: 'predict',
      env,
      logFile: ws.path('crasher', 'predict.log'),
      onOutput: (line, stream) => lines.push(`${stream}: ${line}`),
    });
    expect(result).toMatchObject({
      exitCode: 1,
      signal: null,
      timedOut: false,
      lastStderrLine: 'crasher: predict failed (simulated)',
    });
    expect(result.argv.slice(1)).toEqual(['predict.py']);
    expect(lines).toEqual(['stderr: crasher: predict failed (simulated)']);
    const log = readFileSync(result.logFile, 'utf8');
    expect(log).toMatch(/^--- mlcycle predict .*predict\.py \(in test\/fixtures\/trainers\/crasher\)\n/);
    expect(log).toContain('crasher: predict failed (simulated)\n--- mlcycle predict: exit 1 after');
  });

  it('ends a run past its timeout, as Batch ends an attempt', async () => {
    const result = await runTrainerLocally({
      trainerDir: 'test/fixtures/trainers/resumable',
      mode: 'train',
      env: trainEnv('slow'),
      logFile: ws.path('slow', 'train.log'),
      timeoutMs: 300,
    });
    expect(result).toMatchObject({ exitCode: null, signal: 'SIGTERM', timedOut: true });
    expect(readFileSync(result.logFile, 'utf8')).toContain('killed by SIGTERM (timed out)');
  });
});

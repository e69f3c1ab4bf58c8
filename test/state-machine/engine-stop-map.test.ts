import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AslDefinition } from '../../local/stepfunctions/definition.js';
import { LocalStepFunctions } from '../../local/stepfunctions/engine.js';

const SM = 'arn:aws:states:us-east-1:000000000000:stateMachine:stop-map';
const WORK = 'arn:aws:lambda:us-east-1:000000000000:function:work';

/**
 * StopExecution on AWS starts nothing more: no further state, no queued Map iteration. The
 * library behind the local engine frees a Map slot when a running iteration is aborted and runs
 * the first state of the next queued item anyway; for a sweep that first state is PrepareRun,
 * which recorded a trial run (and split its data) for an execution already stopped.
 */
describe('local engine: a stopped execution starts no more Map iterations', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlcycle-stop-map-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the items queued behind MaxConcurrency never run their first Task', async () => {
    const definition: AslDefinition = {
      StartAt: 'Items',
      States: {
        Items: {
          Type: 'Map',
          ItemsPath: '$.items',
          MaxConcurrency: 1,
          ItemProcessor: {
            ProcessorConfig: { Mode: 'INLINE' },
            StartAt: 'Work',
            States: { Work: { Type: 'Task', Resource: WORK, End: true } },
          },
          End: true,
        },
      },
    } as unknown as AslDefinition;
    const started: unknown[] = [];
    let release: () => void = () => undefined;
    const engine = new LocalStepFunctions({
      stateMachineArn: SM,
      definition,
      dir,
      runner: {
        lambda: async (_arn, input) => {
          started.push(input);
          // The first item works until released: the stop lands while it runs.
          await new Promise<void>((r) => {
            release = r;
          });
          return input;
        },
        invokeAsync: async () => undefined,
        submitBatchJob: async () => undefined,
      },
    });
    const { executionArn } = engine.startExecution({ items: [1, 2, 3] }, 'stopped-map');
    while (started.length === 0) await new Promise((r) => setTimeout(r, 5));
    engine.stopExecution(executionArn);
    const ended = await engine.settled(executionArn);
    expect(ended.status).toBe('ABORTED');
    release();
    // Whatever the library would still schedule has had its turns.
    await new Promise((r) => setTimeout(r, 100));
    expect(started).toEqual([1]);
  });
});

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ASL_FILE } from '../../lambdas/contracts/state-machine.js';
import { localSubstitutions } from '../../local/runtime.js';
import { loadDefinition } from '../../local/stepfunctions/definition.js';
import { LocalStepFunctions } from '../../local/stepfunctions/engine.js';
import type { ExecutionRecord } from '../../local/stepfunctions/execution-record.js';

const SM = 'arn:aws:states:us-east-1:000000000000:stateMachine:mlcycle-lifecycle';

/** The local engine's end-of-execution hook survives the process: at least once, across restarts. */
describe('local engine: onExecutionEnded across restarts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlcycle-engine-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const engine = (onExecutionEnded: (e: ExecutionRecord) => Promise<void>) =>
    new LocalStepFunctions({
      stateMachineArn: SM,
      definition: loadDefinition(ASL_FILE, localSubstitutions('mlcycle')),
      dir,
      onExecutionEnded,
      runner: {
        lambda: async () => {
          throw new Error('not used');
        },
        invokeAsync: async () => {
          throw new Error('not used');
        },
        submitBatchJob: async () => {
          throw new Error('not used');
        },
      },
    });

  it('an execution left RUNNING on disk is failed on load, and the hook runs until it succeeds once', async () => {
    const name = 'left-running';
    const executionArn = `${SM.replace(':stateMachine:', ':execution:')}:${name}`;
    const running: ExecutionRecord = {
      executionArn,
      stateMachineArn: SM,
      name,
      status: 'RUNNING',
      startDate: Date.now() - 1000,
      input: '{"model":"churn"}',
      events: [
        { id: 1, previousEventId: 0, timestamp: 1, type: 'ExecutionStarted' },
        {
          id: 2,
          previousEventId: 1,
          timestamp: 2,
          type: 'TaskStateEntered',
          stateEnteredEventDetails: { name: 'Approve' },
        },
      ],
    };
    writeFileSync(join(dir, `${name}.json`), JSON.stringify(running));

    const seen: ExecutionRecord[] = [];
    const failing = engine(async (e) => {
      seen.push(structuredClone(e));
      throw new Error('DynamoDB unreachable');
    });
    // Failed on load, and says why, before any hook ran.
    expect(failing.describe(executionArn)).toMatchObject({
      status: 'FAILED',
      error: 'mlcycle.LocalRuntimeRestarted',
      cause: expect.stringContaining('(at Approve)'),
      endNotified: false,
    });
    expect(failing.describe(executionArn).events.at(-1)).toMatchObject({
      type: 'ExecutionFailed',
      executionFailedEventDetails: { error: 'mlcycle.LocalRuntimeRestarted' },
    });
    await failing.notifyUnreported();
    expect(seen.map((e) => e.executionArn)).toEqual([executionArn]);
    const persisted = () => JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as ExecutionRecord;
    expect(persisted()).toMatchObject({ status: 'FAILED', endNotified: false });

    // The next start tries again; once it succeeds, never again.
    const succeeding = engine(async (e) => {
      seen.push(structuredClone(e));
    });
    await succeeding.notifyUnreported();
    expect(seen).toHaveLength(2);
    expect(persisted()).toMatchObject({ status: 'FAILED', endNotified: true });
    const later = engine(async (e) => {
      seen.push(structuredClone(e));
    });
    await later.notifyUnreported();
    expect(seen).toHaveLength(2);
    expect(seen[1]).toMatchObject({ status: 'FAILED', error: 'mlcycle.LocalRuntimeRestarted' });
  });
});

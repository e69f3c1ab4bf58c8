import { afterEach, describe, expect, it } from 'vitest';
import { reportEnd } from '../../../bin/cli/pipeline.js';
import type { CliContext } from '../../../bin/cli/types.js';

/** A context whose output records what a command prints (only reportEnd's part of it). */
function recording(json: boolean) {
  const printed: unknown[] = [];
  const ctx = {
    output: {
      json,
      table: () => undefined,
      info: () => undefined,
      result: (value: unknown, human: () => string) => printed.push(json ? value : human()),
    },
  } as unknown as CliContext;
  return { ctx, printed };
}

const ARN = 'arn:aws:states:us-east-1:000000000000:execution:mlcycle-lifecycle:churn-production-schedule-x';
const WHY = 'retraining churn for production skipped: dataset … pass --force to train anyway (run r1)';

describe('reportEnd (pipeline start --wait, train submit)', () => {
  afterEach(() => {
    process.exitCode = undefined;
  });

  it('says a skipped run was skipped, and why, with exit 0', () => {
    const { ctx, printed } = recording(false);
    const output = JSON.stringify({ model: 'churn', skipped: { Error: 'RetrainSkipped', Cause: WHY } });
    reportEnd(ctx, ARN, { status: 'SUCCEEDED', output });
    expect(printed).toEqual([`SKIPPED: ${WHY}`]);
    expect(process.exitCode).toBeUndefined();

    const j = recording(true);
    reportEnd(j.ctx, ARN, { status: 'SUCCEEDED', output });
    expect(j.printed[0]).toMatchObject({ status: 'SUCCEEDED', skipped: WHY });
  });

  it('reports a deployed run as SUCCEEDED and a failure with its cause and exit 1', () => {
    const { ctx, printed } = recording(false);
    reportEnd(ctx, ARN, { status: 'SUCCEEDED', output: JSON.stringify({ model: 'churn' }) });
    expect(printed).toEqual(['SUCCEEDED']);
    expect(process.exitCode).toBeUndefined();
    reportEnd(ctx, ARN, { status: 'FAILED', error: 'mlcycle.TrainingFailed', cause: 'bad target' });
    expect(printed[1]).toBe('FAILED: mlcycle.TrainingFailed — bad target');
    expect(process.exitCode).toBe(1);
  });
});

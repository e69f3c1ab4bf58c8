import { describe, expect, it } from 'vitest';
import { FAILURE_KINDS } from '../../../lambdas/contracts/pipeline.js';
import { executionEndOutcome, failureOutcome } from '../../../lambdas/domain/pipeline/failure-outcome.js';

describe('failureOutcome', () => {
  it('rejects the version for policy outcomes and fails it for broken runs', () => {
    expect(failureOutcome('gate').versionStatus).toBe('rejected');
    expect(failureOutcome('rejected').versionStatus).toBe('rejected');
    expect(failureOutcome('timeout').versionStatus).toBe('rejected');
    expect(failureOutcome('training').versionStatus).toBe('failed');
    expect(failureOutcome('deploy').versionStatus).toBe('failed');
  });

  it('has a summary for every failure kind', () => {
    for (const kind of FAILURE_KINDS) expect(failureOutcome(kind).summary.length).toBeGreaterThan(5);
  });

  it("reads a Batch job description's container reason out of the cause", () => {
    const cause = JSON.stringify({
      JobId: 'j',
      StatusReason: 'Essential container in task exited',
      Container: { ExitCode: 1, Reason: 'target column "churned" is missing' },
    });
    const detail = failureOutcome('training', 'States.TaskFailed', cause).detail;
    expect(detail).toContain('States.TaskFailed');
    expect(detail).toContain('target column "churned" is missing');
  });

  it('keeps a plain-text cause and bounds its length', () => {
    expect(failureOutcome('deploy', 'ArtifactValidationError', 'checksum mismatch').detail).toBe(
      'ArtifactValidationError: checksum mismatch',
    );
    expect(failureOutcome('deploy', 'E', 'x'.repeat(2000)).detail.length).toBeLessThanOrEqual(500);
    expect(failureOutcome('gate').detail).toBe('');
  });

  it('a preparation failure (no run, nothing registered) says so', () => {
    expect(failureOutcome('preparation', 'NotFoundError', 'model churn has no version 9.9.9')).toMatchObject({
      summary: 'the run or promotion could not be started',
      detail: 'NotFoundError: model churn has no version 9.9.9',
    });
  });

  it('an execution that ended outside the failure paths: stopped, timed out or failed, with its error and cause', () => {
    expect(executionEndOutcome('ABORTED')).toEqual({
      kind: 'aborted',
      versionStatus: 'failed',
      summary: 'the pipeline execution was stopped',
      detail: '',
    });
    expect(executionEndOutcome('TIMED_OUT').summary).toBe('the pipeline execution timed out');
    expect(
      executionEndOutcome('FAILED', 'mlcycle.LocalRuntimeRestarted', 'mlcycle up was restarted'),
    ).toEqual({
      kind: 'failed',
      versionStatus: 'failed',
      summary: 'the pipeline execution failed (mlcycle.LocalRuntimeRestarted)',
      detail: 'mlcycle.LocalRuntimeRestarted: mlcycle up was restarted',
    });
  });
});

describe('failureOutcome of a job the queue cancelled', () => {
  it('says "no capacity" and which quota to check when no instance could be had', () => {
    const cause = JSON.stringify({
      JobName: 'mlcycle-churn-r1',
      Status: 'FAILED',
      StatusReason:
        'Canceled by JobStateTimeLimit action due to reason: CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY',
    });
    const detail = failureOutcome('training', 'States.TaskFailed', cause).detail;
    expect(detail).toMatch(
      /^States\.TaskFailed: no capacity: check the Spot G\/VT quota \(Service Quotas L-3819A6DF/,
    );
    expect(detail).toContain('CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY');
  });

  it('names the setting to change when the job can never fit', () => {
    const cause = (reason: string) =>
      JSON.stringify({
        Status: 'FAILED',
        StatusReason: `Canceled by JobStateTimeLimit action due to reason: ${reason}`,
      });
    expect(
      failureOutcome(
        'training',
        'States.TaskFailed',
        cause('MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE'),
      ).detail,
    ).toMatch(/maxvCpus: lower training\.resources\.vcpus/);
    expect(
      failureOutcome('training', 'States.TaskFailed', cause('MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT'))
        .detail,
    ).toMatch(/training\.resources or training\.instanceTypes/);
  });
});

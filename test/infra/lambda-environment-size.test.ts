import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { ENV } from '../../lambdas/contracts/env.js';
import { LifecycleFunctions } from '../../lib/functions.js';
import {
  environmentSize,
  estimatedBytes,
  LAMBDA_ENVIRONMENT_LIMIT_BYTES,
  TOKEN_BYTES,
} from '../../lib/lambda-environment-size.js';

/** Issue 15, point 5: Lambda refuses more than 4 KB of environment, and only at deploy time. */

const outdirs: string[] = [];
afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

/** Synthesises the functions alone (no bundling) with every contract variable set. */
function synthFunctions(sender: string): void {
  const outdir = mkdtempSync(join(tmpdir(), 'mlcycle-envsize-'));
  outdirs.push(outdir);
  const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Functions');
  new LifecycleFunctions(stack, 'Fns', { project: 'mlcycle' }).applyEnvironment({
    values: {
      [ENV.table]: 'registry',
      [ENV.bucket]: 'artifacts',
      [ENV.emailSender]: sender,
      [ENV.configFile]: '/opt/mlcycle/config.json',
      [ENV.authMode]: 'iam',
      [ENV.stateMachineArn]: 'arn:aws:states:us-east-1:123456789012:stateMachine:mlcycle-lifecycle',
      [ENV.alertTopicArn]: 'arn:aws:sns:us-east-1:123456789012:mlcycle-alerts',
      [ENV.approvalBaseUrl]: 'https://abc.execute-api.us-east-1.amazonaws.com/',
      [ENV.signingSecretArn]: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:key',
      [ENV.codeVersion]: '0a1b2c3d4e5f60718293a4b5c6d7e8f901234567-dirty',
      [ENV.jobQueue]: 'arn:aws:batch:us-east-1:123456789012:job-queue/mlcycle-training',
      [ENV.clientBaseUrl]: 'https://d111111abcdef8.cloudfront.net/',
      [ENV.cdnDistributionId]: 'E2QWRUHAPOMQZL',
    },
  });
  app.synth();
}

describe('estimated size of an environment', () => {
  it('counts literal keys and values in UTF-8 bytes', () => {
    expect(environmentSize({ A: 'xyz', BB: 'é' })).toEqual({
      totalBytes: 1 + 3 + 2 + 2,
      variables: [
        { key: 'A', bytes: 4 },
        { key: 'BB', bytes: 4 },
      ],
    });
  });

  it('counts a reference by its longest plausible value, and a join by its parts', () => {
    expect(estimatedBytes({ Ref: 'Table1234' })).toBe(TOKEN_BYTES);
    expect(estimatedBytes({ Ref: 'AWS::Region' })).toBeLessThan(TOKEN_BYTES);
    expect(
      estimatedBytes({
        'Fn::Join': ['', ['https://', { Ref: 'Api' }, '.execute-api.', { Ref: 'AWS::Region' }, '/']],
      }),
    ).toBe('https://'.length + TOKEN_BYTES + '.execute-api.'.length + 14 + 1);
  });

  it('lists the largest variables first', () => {
    const size = environmentSize({ SMALL: 'a', BIG: 'x'.repeat(100), MID: 'y'.repeat(10) });
    expect(size.variables.map((v) => v.key)).toEqual(['BIG', 'MID', 'SMALL']);
  });
});

describe('synth-time check of every function’s environment', () => {
  it('passes an environment under 4 KB', () => {
    expect(() => synthFunctions('mlcycle@studio.example')).not.toThrow();
  });

  it('fails synth naming each function over 4 KB and its largest variables', () => {
    // No variable of ours grows with the config any more (the config is a layer): an absurd
    // sender stands in for whatever a future variable might hold.
    const big = `${range(1200)
      .map((i) => `x${i}`)
      .join('')}@studio.example`;
    expect(big.length).toBeGreaterThan(LAMBDA_ENVIRONMENT_LIMIT_BYTES);
    let message = '';
    try {
      synthFunctions(big);
    } catch (err) {
      message = (err as Error).message;
    }
    // The sender goes to the functions that mail only.
    expect(message).toMatch(
      /requestApproval: its environment variables take about [\d.]+ KB, over Lambda's 4 KB limit/,
    );
    expect(message).toMatch(/approvalReminders: its environment variables take about [\d.]+ KB/);
    expect(message).toMatch(/the largest: MLCYCLE_EMAIL_SENDER \([\d.]+ KB\), /);
    expect(message).not.toMatch(/\bgate: its environment/);
  });
});

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

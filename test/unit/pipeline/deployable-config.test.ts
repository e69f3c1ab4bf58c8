import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../../../lambdas/adapters/config-file.js';
import { trainTaskTimeoutSeconds } from '../../../lambdas/contracts/budgets.js';
import { trainingSettings } from '../../../lambdas/domain/pipeline/admission.js';

/** The repository's sample config as plain data, with values set at dotted key paths. */
function raw(set: Record<string, unknown> = {}): Record<string, unknown> {
  const c = parse(readFileSync('mlcycle.config.yaml', 'utf8')) as Record<string, unknown>;
  for (const [path, value] of Object.entries(set)) {
    const keys = path.split('.');
    let at = c;
    for (const key of keys.slice(0, -1)) {
      at[key] ??= {};
      at = at[key] as Record<string, unknown>;
    }
    at[keys[keys.length - 1] as string] = value;
  }
  return c;
}

import { configError as errorOf } from '../../support/config-samples.js';

describe('config for a deployable stack', () => {
  it('has defaults for the Batch infrastructure, Spot attempts and the monitoring concurrency caps', () => {
    const c = parseConfig(raw());
    expect(c.batch).toEqual({ capacityWaitMinutes: 60, startupMinutes: 15, vpcEndpoints: false });
    expect(c.models.churn?.training.spotAttempts).toBe(3);
    expect(c.monitoring.reservedConcurrency).toEqual({ baseline: 2, drift: 5 });
  });

  it('accepts `reservedConcurrency: false` for accounts whose Lambda quota cannot spare any', () => {
    const c = parseConfig(raw({ 'monitoring.reservedConcurrency': false }));
    expect(c.monitoring.reservedConcurrency).toBe(false);
  });

  it('refuses a Spot bid cap, naming the key and the value, and says to remove it', () => {
    const message = errorOf(raw({ 'models.churn.training.maxSpotPricePercent': 70 }));
    expect(message).toMatch(/^x\.yaml: models\.churn\.training\.maxSpotPricePercent: got 70: /);
    expect(message).toMatch(/remove/i);
  });

  it('refuses an Arm (Graviton) instance type: the trainer image is built for linux/amd64', () => {
    const message = errorOf(raw({ 'models.churn.training.instanceTypes': ['g5.xlarge', 'g5g.xlarge'] }));
    expect(message).toMatch(
      /^x\.yaml: models\.churn\.training\.instanceTypes\.1: got "g5g\.xlarge": .*amd64/,
    );
  });

  it('keeps the queue’s RUNNABLE time limit within what Batch accepts (10 minutes to 24 hours)', () => {
    expect(errorOf(raw({ batch: { capacityWaitMinutes: 5 } }))).toMatch(
      /^x\.yaml: batch\.capacityWaitMinutes: got 5: /,
    );
    expect(errorOf(raw({ batch: { capacityWaitMinutes: 1441 } }))).toMatch(
      /batch\.capacityWaitMinutes: got 1441/,
    );
  });

  it('refuses an approval wait that, with training, outlasts the execution timeout, and says the most that fits', () => {
    const message = errorOf(raw({ 'environments.production.approvalTimeoutHours': 8760 }));
    expect(message).toMatch(/^x\.yaml: environments\.production\.approvalTimeoutHours: got 8760: /);
    expect(message).toMatch(/one year/);
    const most = Number(/at most ([\d.]+) h/.exec(message)?.[1]);
    expect(most).toBeGreaterThan(8000);
    expect(most).toBeLessThan(8760);
    // …and that many hours is accepted.
    expect(() => parseConfig(raw({ 'environments.production.approvalTimeoutHours': most }))).not.toThrow();
  });

  it('wants a domain identity that the sender address belongs to', () => {
    expect(
      errorOf(raw({ notifications: { sender: 'mlcycle@studio.example', senderDomain: 'other.example' } })),
    ).toMatch(/^x\.yaml: notifications\.senderDomain: got "other\.example": .*mlcycle@studio\.example/);
    const ok = parseConfig(
      raw({ notifications: { sender: 'mlcycle@mail.studio.example', senderDomain: 'studio.example' } }),
    );
    expect(ok.notifications.senderDomain).toBe('studio.example');
  });
});

describe('training settings the Admit state hands on', () => {
  it('gives Train a task timeout covering every attempt and its wait, and keeps the per-attempt timeout', () => {
    const training = trainingSettings(parseConfig(raw()), 'churn');
    expect(training.timeoutSeconds).toBe(120 * 60);
    expect(training.taskTimeoutSeconds).toBe(
      trainTaskTimeoutSeconds({
        attemptSeconds: 120 * 60,
        attempts: 3,
        capacityWaitSeconds: 60 * 60,
        startupSeconds: 15 * 60,
      }),
    );
  });

  it('an On-Demand model is never retried by Batch, so its budget has one attempt', () => {
    const training = trainingSettings(parseConfig(raw({ 'models.churn.training.spot': false })), 'churn');
    expect(training.taskTimeoutSeconds).toBe(
      trainTaskTimeoutSeconds({
        attemptSeconds: 120 * 60,
        attempts: 1,
        capacityWaitSeconds: 60 * 60,
        startupSeconds: 15 * 60,
      }),
    );
  });
});

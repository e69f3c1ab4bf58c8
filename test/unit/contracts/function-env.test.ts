import { describe, expect, it } from 'vitest';
import { ENV } from '../../../lambdas/contracts/env.js';
import {
  type FunctionEnvWorld,
  functionEnvironment,
  functionEnvironments,
  optionalEnvironment,
  sharedEnvironment,
} from '../../../lambdas/contracts/function-env.js';
import { HANDLERS, type HandlerName } from '../../../lambdas/contracts/handlers.js';

/** A world with a value for every contract variable (an AWS-like one: the secret, no outbox). */
const aws: FunctionEnvWorld['values'] = {
  [ENV.table]: 'registry',
  [ENV.bucket]: 'artifacts',
  [ENV.emailSender]: 'mlcycle@studio.example',
  [ENV.configFile]: '/opt/config.json',
  [ENV.authMode]: 'iam',
  [ENV.alertTopicArn]: 'arn:topic',
  [ENV.approvalBaseUrl]: 'https://api/',
  [ENV.signingSecretArn]: 'arn:secret',
  [ENV.stateMachineArn]: 'arn:sm',
  [ENV.codeVersion]: '0a1b2c3',
  [ENV.jobQueue]: 'arn:aws:batch:us-east-1:1:job-queue/mlcycle-training',
  [ENV.clientBaseUrl]: 'https://d111111abcdef8.cloudfront.net/',
};

const retrain = (enabled: boolean) => ({ monitoring: { retrainOnCritical: { enabled } } }) as never;

describe('the function environment builder', () => {
  it('gives each handler exactly its contract’s variables, in the order the world lists them', () => {
    for (const [name, contract] of Object.entries(HANDLERS) as [
      HandlerName,
      (typeof HANDLERS)[HandlerName],
    ][]) {
      const env = functionEnvironment(name, { values: aws, optional: optionalEnvironment(retrain(false)) });
      expect(Object.keys(env).sort(), name).toEqual([...contract.env].sort());
    }
    expect(Object.keys(functionEnvironment('requestApproval', { values: aws }))).toEqual([
      ENV.table,
      ENV.bucket,
      ENV.emailSender,
      ENV.configFile,
      ENV.approvalBaseUrl,
      ENV.signingSecretArn,
    ]);
  });

  it('gives an optional variable only to the handlers the world names (drift retrains only when the config says)', () => {
    const off = functionEnvironment('drift', { values: aws, optional: optionalEnvironment(retrain(false)) });
    const on = functionEnvironment('drift', { values: aws, optional: optionalEnvironment(retrain(true)) });
    expect(off).not.toHaveProperty(ENV.stateMachineArn);
    expect(on[ENV.stateMachineArn]).toBe('arn:sm');
    // Required variables do not depend on it.
    const start = functionEnvironment('startHttp', {
      values: aws,
      optional: optionalEnvironment(retrain(false)),
    });
    expect(start[ENV.stateMachineArn]).toBe('arn:sm');
  });

  it('gives drift the state machine only when a model’s rollout policy can promote (it has a primary metric)', () => {
    const models = (primary: boolean) =>
      ({
        monitoring: { retrainOnCritical: { enabled: false } },
        models: {
          churn: { rollout: { policy: primary ? { primary: { metric: 'converted' } } : {} } },
          ltv: { rollout: { policy: {} } },
        },
      }) as never;
    const off = functionEnvironment('drift', { values: aws, optional: optionalEnvironment(models(false)) });
    const on = functionEnvironment('drift', { values: aws, optional: optionalEnvironment(models(true)) });
    expect(off).not.toHaveProperty(ENV.stateMachineArn);
    expect(on[ENV.stateMachineArn]).toBe('arn:sm');
  });

  it('refuses a world without a value for a required variable, naming the function and the variable', () => {
    const { [ENV.approvalBaseUrl]: _, ...rest } = aws;
    expect(() => functionEnvironment('requestApproval', { values: rest })).toThrow(
      'requestApproval requires MLCYCLE_APPROVAL_BASE_URL, and no value is given',
    );
    expect(() => functionEnvironment('gate', { values: rest })).not.toThrow();
  });

  it('gives the embedded default’s stand-ins to the handlers that read what they replace', () => {
    const { [ENV.signingSecretArn]: _, ...rest } = aws;
    const local = { ...rest, [ENV.signingSecretFile]: '/k', [ENV.outboxDir]: '/outbox' };
    const request = functionEnvironment('requestApproval', { values: local });
    expect(request[ENV.signingSecretFile]).toBe('/k');
    expect(request[ENV.outboxDir]).toBe('/outbox');
    expect(functionEnvironment('recordFailure', { values: local })[ENV.outboxDir]).toBe('/outbox');
    expect(functionEnvironment('gate', { values: local })).not.toHaveProperty(ENV.outboxDir);
    // Without the secret and without its stand-in, the handlers that sign links cannot run.
    expect(() => functionEnvironment('approvalHttp', { values: rest })).toThrow(/MLCYCLE_SIGNING_SECRET_ARN/);
  });

  it('takes per-function values, and refuses to share a process between functions they tell apart', () => {
    const values = { ...aws, [ENV.serviceName]: (name: HandlerName) => `mlcycle-${name}` };
    const all = functionEnvironments({ values });
    expect(all.gate[ENV.serviceName]).toBe('mlcycle-gate');
    expect(() => sharedEnvironment({ values })).toThrow(/POWERTOOLS_SERVICE_NAME differs between functions/);
    expect(sharedEnvironment({ values: aws })).toEqual(aws);
  });
});

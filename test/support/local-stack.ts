import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlClient } from '../../bin/cli/control-client.js';
import { parseConfig } from '../../lambdas/adapters/config-file.js';
import type { MlcycleConfig } from '../../lambdas/contracts/config-schema.js';
import type { StartedExecution } from '../../lambdas/services/pipeline/start.js';
import { type LocalStack, startLocalStack } from '../../local/runtime.js';

/** A small config for tests: fast training, one approver on staging, 2-of-3 on production. */
export function testConfig(overrides: Record<string, unknown> = {}): MlcycleConfig {
  return parseConfig(
    {
      project: 'mlcycle',
      models: {
        churn: {
          target: 'churned',
          exclude: ['player_id'],
          training: {
            hyperparameters: { learningRate: 0.05, epochs: 12, l2: 0.001, batchSize: 256, seed: 7 },
          },
          schedule: { stage: 'staging' },
        },
      },
      environments: {
        staging: {
          approvers: ['lead@studio.test'],
          quorum: 1,
          gates: [{ metric: 'auc', operator: '>=', threshold: 0.6 }],
        },
        production: {
          approvers: ['a@studio.test', 'b@studio.test', 'c@studio.test'],
          quorum: 2,
          gates: [
            { metric: 'auc', operator: '>=', threshold: 0.6 },
            { metric: 'auc', noWorseThanServingBy: 0.01 },
          ],
        },
      },
      ...overrides,
    },
    'test config',
  );
}

export interface TestStack {
  readonly stack: LocalStack;
  readonly config: MlcycleConfig;
  stop(): Promise<void>;
}

/** The whole embedded default in a temporary folder. */
export async function startTestStack(config = testConfig()): Promise<TestStack> {
  const dir = mkdtempSync(join(tmpdir(), 'mlcycle-stack-'));
  const stack = await startLocalStack({ config, dir, fresh: true });
  return {
    stack,
    config,
    async stop() {
      await stack.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The control API of a local stack, acting as `actor` (as the CLI does with --as). */
export function controlAs(stack: LocalStack, actor: string): ControlClient {
  return new ControlClient(stack.endpoints.api, { kind: 'local', actor });
}

/** Starts a run (POST /runs) or a promotion (POST /promotions) as `actor`; returns the execution ARN. */
export async function startAs(
  stack: LocalStack,
  actor: string,
  body: Record<string, unknown>,
): Promise<string> {
  const path = 'version' in body ? '/promotions' : '/runs';
  const started = await controlAs(stack, actor).request<StartedExecution>('POST', path, body);
  return started.executionArn;
}

import { SFNClient } from '@aws-sdk/client-sfn';
import { z } from 'zod';
import { createDocumentClient, createS3Client, withTransientErrors } from '../../adapters/aws-clients.js';
import { deployedConfig } from '../../adapters/deployed-config.js';
import { DriftStore } from '../../adapters/drift/drift-store.js';
import { alertPublisherFromEnv } from '../../adapters/notifier.js';
import { Registry } from '../../adapters/registry/registry.js';
import { S3Objects } from '../../adapters/s3-objects.js';
import { monitoringRuntimeConfig } from '../../contracts/config-schema.js';
import { ENV } from '../../contracts/env.js';
import { HANDLERS } from '../../contracts/handlers.js';
import type { MonitoringDeps } from '../../services/monitoring/deps.js';
import { ROLLOUT_GUARD, type RolloutGuard } from '../../services/monitoring/rollout-check.js';
import { type StartDeps, startPipeline } from '../../services/pipeline/start.js';
import { abortRollout } from '../../services/rollouts/abort.js';
import { publishStage, rolloutReference } from '../../services/rollouts/publish.js';
import { clientPublicationFromEnv } from './client-publication.js';
import { createLogger, once, readEnv } from './runtime.js';
import { startDeps } from './start-deps.js';

const envSchema = z.object({
  [ENV.table]: z.string().min(1),
  [ENV.bucket]: z.string().min(1),
  [ENV.configFile]: z.string().min(1),
  [ENV.stateMachineArn]: z.string().optional(),
});

/** The drift monitor asks for retrains as the platform itself, never as a person. */
export const DRIFT_REQUESTOR = 'mlcycle-drift';

/** Adapters for the baseline and drift handlers, built once per container. */
export const monitoringDeps = once((): MonitoringDeps => {
  const env = readEnv(envSchema);
  const config = deployedConfig();
  const doc = createDocumentClient();
  const objects = new S3Objects(createS3Client());
  const stateMachineArn = env[ENV.stateMachineArn];
  const starting = stateMachineArn
    ? startDeps(
        doc,
        { table: env[ENV.table], bucket: env[ENV.bucket], stateMachineArn },
        config,
        withTransientErrors(new SFNClient({})),
      )
    : undefined;
  return {
    store: new DriftStore(doc, env[ENV.table]),
    objects,
    bucket: env[ENV.bucket],
    config: monitoringRuntimeConfig(config),
    alerts: alertPublisherFromEnv(),
    // a claim outlasts the longest attempt of either function, then a redelivery may take it
    leaseSeconds: Math.max(HANDLERS.baseline.timeoutSeconds, HANDLERS.drift.timeoutSeconds),
    logger: createLogger('monitoring'),
    rollouts: rolloutGuard(new Registry(doc, env[ENV.table]), objects, env[ENV.bucket], starting),
    ...(starting
      ? {
          retrain: async (model: string, reason: string) => {
            const stage = config.models[model]?.schedule.stage ?? '';
            const started = await startPipeline(
              starting,
              { model, stage, reason },
              { person: DRIFT_REQUESTOR, trigger: 'drift', principal: null },
            );
            return started.executionArn;
          },
        }
      : {}),
  };
});

/**
 * The rollout guard of the batch check: the registry's rollouts, each model's `rollout` section
 * of the deployed config (read per batch), the automatic abort, and promotion requests through
 * the start service (when the function may start executions).
 */
function rolloutGuard(
  registry: Registry,
  objects: S3Objects,
  bucket: string,
  starting: StartDeps | undefined,
): RolloutGuard {
  const publishing = () => ({ registry, objects, bucket, ...clientPublicationFromEnv() });
  return {
    store: registry.rollouts,
    settings: (model) => deployedConfig().models[model]?.rollout,
    republish: (r) => publishStage(publishing(), r.model, r.stage, rolloutReference(r)),
    abort: ({ model, stage, expectedRevision, reason, evidence }) =>
      abortRollout(publishing(), {
        model,
        stage,
        reason,
        actor: ROLLOUT_GUARD,
        kind: 'auto-abort',
        decision: evidence,
        expectedRevision,
      }),
    ...(starting
      ? {
          requestPromotion: async ({ model, stage, version, reason }) => {
            const started = await startPipeline(
              { ...starting, config: deployedConfig() },
              { model, stage, promote: version, reason },
              { person: ROLLOUT_GUARD, trigger: 'rollout', principal: null },
            );
            return { executionName: started.executionName };
          },
        }
      : {}),
  };
}

import { SFNClient } from '@aws-sdk/client-sfn';
import { z } from 'zod';
import { createDocumentClient, createS3Client, withTransientErrors } from '../../adapters/aws-clients.js';
import { DriftStore } from '../../adapters/drift/drift-store.js';
import type { MonitoringDeps } from '../../adapters/drift/monitoring-service.js';
import { alertPublisherFromEnv } from '../../adapters/notifier.js';
import { S3Objects } from '../../adapters/s3-objects.js';
import { monitoringRuntimeSchema } from '../../contracts/config-schema.js';
import { ENV } from '../../contracts/env.js';
import { pipelineInputSchema } from '../../contracts/pipeline.js';
import { createLogger, once, readEnv } from './runtime.js';

const json = <T extends z.ZodType>(schema: T) =>
  z.string().transform((text, ctx) => {
    try {
      return schema.parse(JSON.parse(text)) as z.infer<T>;
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `is not valid: ${(err as Error).message.slice(0, 200)}` });
      return z.NEVER;
    }
  });

const envSchema = z.object({
  [ENV.table]: z.string().min(1),
  [ENV.bucket]: z.string().min(1),
  [ENV.monitoringConfig]: json(monitoringRuntimeSchema),
  [ENV.stateMachineArn]: z.string().optional(),
  [ENV.retrainInputs]: json(z.record(z.string(), pipelineInputSchema)).optional(),
});

/** Adapters for the baseline and drift handlers, built once per container. */
export const monitoringDeps = once((): MonitoringDeps => {
  const env = readEnv(envSchema);
  const retrain = env[ENV.retrainInputs];
  return {
    store: new DriftStore(createDocumentClient(), env[ENV.table]),
    objects: new S3Objects(createS3Client()),
    bucket: env[ENV.bucket],
    config: env[ENV.monitoringConfig],
    alerts: alertPublisherFromEnv(),
    logger: createLogger('monitoring'),
    ...(env[ENV.stateMachineArn] && retrain
      ? {
          sfn: withTransientErrors(new SFNClient({})),
          stateMachineArn: env[ENV.stateMachineArn],
          retrainInputs: retrain,
        }
      : {}),
  };
});

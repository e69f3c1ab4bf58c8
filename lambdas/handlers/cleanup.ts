import { z } from 'zod';
import { createDocumentClient, createS3Client } from '../adapters/aws-clients.js';
import { deployedConfig } from '../adapters/deployed-config.js';
import { CleanupHistory } from '../adapters/registry/cleanup-history.js';
import { Registry } from '../adapters/registry/registry.js';
import { S3Objects } from '../adapters/s3-objects.js';
import type { MlcycleConfig } from '../contracts/config-schema.js';
import { ENV } from '../contracts/env.js';
import { executionSucceededSchema } from '../contracts/execution-events.js';
import { applyRetention, type RetentionDeps, retentionRules } from '../services/registry/retention.js';
import { correlationIds, lambdaHandler } from './kit/lambda.js';
import { createLogger, once, readEnv } from './kit/runtime.js';

const logger = createLogger('cleanup');

export interface CleanupDeps extends RetentionDeps {
  /** The deployed config (its archival policy), read at each run. */
  readonly config: () => MlcycleConfig;
}

/** The model of a succeeded execution (its input's `model`), or undefined: then every model. */
function deployedModel(event: unknown): string[] | undefined {
  const succeeded = executionSucceededSchema.safeParse(event);
  if (!succeeded.success) return undefined;
  try {
    const model = (JSON.parse(succeeded.data.detail.input ?? '{}') as { model?: unknown }).model;
    return typeof model === 'string' ? [model] : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The retention policy of the deployed config: daily for every model (the schedule), and for
 * one model when a lifecycle execution of it succeeded. The event only picks the model: what is
 * archived comes from the deployed policy and the registry.
 */
export function makeCleanupHandler(deps: () => CleanupDeps) {
  const ids = (e: unknown) => correlationIds.execution(e) ?? correlationIds.scheduled(e);
  return lambdaHandler(logger, ids, async (event: unknown) => {
    const d = deps();
    const { archival } = d.config();
    const models = deployedModel(event);
    const trigger = executionSucceededSchema.safeParse(event).success ? 'deploy' : 'daily';
    const report = await applyRetention(d, {
      rules: retentionRules(archival),
      dryRun: archival.dryRun,
      actor: 'mlcycle-cleanup',
      trigger,
      ...(models ? { models } : {}),
    });
    logger.info('retention applied', {
      trigger,
      dryRun: report.dryRun,
      reclaimedBytes: report.reclaimedBytes,
      archived: report.models.flatMap((m) => m.archived.map((a) => `${m.model}@${a.version}`)),
    });
    return {
      dryRun: report.dryRun,
      reclaimedBytes: report.reclaimedBytes,
      archived: report.models.reduce((n, m) => n + m.archived.length, 0),
    };
  });
}

export const handler = makeCleanupHandler(
  once((): CleanupDeps => {
    const env = readEnv(
      z.object({ [ENV.table]: z.string(), [ENV.bucket]: z.string(), [ENV.configFile]: z.string() }),
    );
    const doc = createDocumentClient();
    return {
      registry: new Registry(doc, env[ENV.table]),
      history: new CleanupHistory(doc, env[ENV.table]),
      objects: new S3Objects(createS3Client()),
      bucket: env[ENV.bucket],
      config: () => deployedConfig(),
    };
  }),
);

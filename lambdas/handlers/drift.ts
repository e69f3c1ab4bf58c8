import type { S3Event } from 'aws-lambda';
import { processBatch } from '../services/monitoring/batch-check.js';
import type { MonitoringDeps } from '../services/monitoring/deps.js';
import { correlationIds, lambdaHandler } from './kit/lambda.js';
import { monitoringDeps } from './kit/monitoring-deps.js';
import { createLogger } from './kit/runtime.js';
import { uploadedObjects } from './kit/s3-event.js';

const logger = createLogger('drift');

/** S3 ObjectCreated under monitoring/<model>/batches/: compare the batch with the baseline. */
export function makeDriftHandler(deps: () => MonitoringDeps) {
  return lambdaHandler(logger, correlationIds.s3, async (event: S3Event) => {
    const results = [];
    for (const o of uploadedObjects(event)) {
      const record = await processBatch(deps(), o);
      logger.info(record ? 'batch checked' : 'duplicate delivery skipped', {
        key: o.key,
        severity: record?.overallSeverity,
        status: record?.status,
      });
      results.push({ key: o.key, status: record?.status ?? 'duplicate', severity: record?.overallSeverity });
    }
    return results;
  });
}

export const handler = makeDriftHandler(monitoringDeps);

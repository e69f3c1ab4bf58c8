import type { S3Event } from 'aws-lambda';
import { processBaseline } from '../services/monitoring/baseline.js';
import type { MonitoringDeps } from '../services/monitoring/deps.js';
import { correlationIds, lambdaHandler } from './kit/lambda.js';
import { monitoringDeps } from './kit/monitoring-deps.js';
import { createLogger } from './kit/runtime.js';
import { uploadedObjects } from './kit/s3-event.js';

const logger = createLogger('baseline');

/** S3 ObjectCreated under monitoring/<model>/baseline/: profile the file as the model's baseline. */
export function makeBaselineHandler(deps: () => MonitoringDeps) {
  return lambdaHandler(logger, correlationIds.s3, async (event: S3Event) => {
    const results = [];
    for (const o of uploadedObjects(event)) {
      const record = await processBaseline(deps(), o);
      logger.info(record ? 'baseline processed' : 'duplicate delivery skipped', {
        key: o.key,
        status: record?.status,
      });
      results.push({ key: o.key, status: record?.status ?? 'duplicate', error: record?.error });
    }
    return results;
  });
}

export const handler = makeBaselineHandler(monitoringDeps);

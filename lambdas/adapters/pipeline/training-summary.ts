import { RUN_FILES } from '../../contracts/s3-layout.js';
import { describeZodError } from '../../contracts/zod-errors.js';
import { ValidationError } from '../../domain/errors.js';
import { type TrainingSummary, trainingSummarySchema } from '../../domain/ml/training-summary.js';
import { childUri, parseS3Uri, type S3Objects } from '../s3-objects.js';

/**
 * The trainer's training-summary.json beside a run's outputs, validated: a missing one is a
 * NotFoundError naming it, a malformed one a ValidationError naming the key.
 */
export async function readTrainingSummary(objects: S3Objects, outputUri: string): Promise<TrainingSummary> {
  const uri = childUri(outputUri, RUN_FILES.trainingSummary);
  const parsed = trainingSummarySchema.safeParse(await objects.getJson(parseS3Uri(uri)));
  if (!parsed.success) throw new ValidationError(describeZodError(parsed.error, uri));
  return parsed.data;
}

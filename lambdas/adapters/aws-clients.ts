import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { withTransientErrors } from './transient-errors.js';

export { createS3Client } from './s3-client.js';
export { withTransientErrors } from './transient-errors.js';

/**
 * Client factories. Handlers build their clients once, at cold start, from these; the SDK picks
 * up endpoint overrides from AWS_ENDPOINT_URL_<SERVICE> (the embedded default sets them), so the
 * same code talks to AWS or to the emulators. Every client they build raises TransientError for
 * what is worth retrying (transient-errors.ts); a client built elsewhere gets the same with
 * withTransientErrors(client).
 */

export function createDocumentClient(
  client: DynamoDBClient = new DynamoDBClient({}),
): DynamoDBDocumentClient {
  // The document client shares the given client's middleware stack: both raise TransientError.
  return withTransientErrors(
    DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
      unmarshallOptions: { wrapNumbers: false },
    }),
  );
}

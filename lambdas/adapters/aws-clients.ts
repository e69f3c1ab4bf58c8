import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export { createS3Client } from './s3-client.js';

/**
 * Client factories. Handlers build their clients once, at cold start, from these; the SDK picks
 * up endpoint overrides from AWS_ENDPOINT_URL_<SERVICE> (the embedded default sets them), so the
 * same code talks to AWS or to the emulators.
 */

export function createDocumentClient(
  client: DynamoDBClient = new DynamoDBClient({}),
): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    unmarshallOptions: { wrapNumbers: false },
  });
}

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * Client factories. Handlers build their clients once, at cold start, from these; the SDK picks
 * up endpoint overrides from AWS_ENDPOINT_URL_<SERVICE> (the embedded default sets them), so the
 * same code talks to AWS or to the emulators.
 */

export function createS3Client(config: S3ClientConfig = {}): S3Client {
  const endpointOverridden = Boolean(
    config.endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL,
  );
  return new S3Client({
    // Streamed uploads to s3rver are stored corrupted with the SDK's default CRC32 trailers;
    // WHEN_REQUIRED keeps classic Content-MD5/unsigned bodies, which AWS accepts as well.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    forcePathStyle: endpointOverridden,
    ...config,
  });
}

export function createDocumentClient(
  client: DynamoDBClient = new DynamoDBClient({}),
): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    unmarshallOptions: { wrapNumbers: false },
  });
}

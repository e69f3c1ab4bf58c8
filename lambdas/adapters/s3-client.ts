import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { withTransientErrors } from './transient-errors.js';

/**
 * The S3 client factory (re-exported by aws-clients.ts), on its own so a profiling worker
 * thread that reads byte ranges loads the S3 client alone. Raises TransientError for what is
 * worth retrying (transient-errors.ts).
 */
export function createS3Client(config: S3ClientConfig = {}): S3Client {
  const endpointOverridden = Boolean(
    config.endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL,
  );
  return withTransientErrors(
    new S3Client({
      // Streamed uploads to s3rver are stored corrupted with the SDK's default CRC32 trailers;
      // WHEN_REQUIRED keeps classic Content-MD5/unsigned bodies, which AWS accepts as well.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      forcePathStyle: endpointOverridden,
      ...config,
    }),
  );
}

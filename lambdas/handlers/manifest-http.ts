import { createHash } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createS3Client } from '../adapters/aws-clients.js';
import { S3Objects } from '../adapters/s3-objects.js';
import { ENV } from '../contracts/env.js';
import { manifestKey } from '../contracts/manifest.js';
import { MANIFEST_CACHE_CONTROL } from '../contracts/routes.js';
import { NotFoundError } from '../domain/errors.js';
import { correlationIds, lambdaHandler } from './kit/lambda.js';
import { registryEnvSchema } from './kit/pipeline-env.js';
import { createLogger, once, readEnv } from './kit/runtime.js';

const logger = createLogger('manifest-http');

export interface ManifestHttpDeps {
  readonly bucket: string;
  readonly objects: S3Objects;
}

const NAME = /^[a-z][a-z0-9-]{0,39}$/;

function json(statusCode: number, body: unknown, headers: Record<string, string> = {}) {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  } satisfies APIGatewayProxyStructuredResultV2;
}

/**
 * GET /models/{name}/{stage}: the client manifest (which version serves a stage and where to
 * download it), with a strong ETag so game clients and services can poll cheaply with
 * If-None-Match, and a short max-age that lets the CDN answer them (contracts/routes.ts).
 */
export function makeManifestHttpHandler(deps: () => ManifestHttpDeps) {
  return lambdaHandler(
    logger,
    correlationIds.http,
    async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
      const { bucket, objects } = deps();
      const model = event.pathParameters?.name ?? '';
      const stage = event.pathParameters?.stage ?? '';
      const bad = !NAME.test(model) ? ['model', model] : !NAME.test(stage) ? ['stage', stage] : undefined;
      if (bad) {
        return json(400, {
          message: `${bad[0]} "${bad[1]}" is not a valid name (lowercase letters, digits, dashes)`,
        });
      }
      // One GET per request (no HEAD first): a missing manifest is S3's NoSuchKey.
      const body = await objects.getText({ bucket, key: manifestKey(model, stage) }).catch((err: unknown) => {
        if (err instanceof NotFoundError) return undefined;
        throw err;
      });
      if (body === undefined) {
        return json(404, { message: `nothing is deployed for model "${model}" in stage "${stage}"` });
      }
      if (!body.includes('"mlcycle.manifest/v2"')) {
        // A v1 manifest (an s3:// URI no client can fetch) is not served: the next change republishes it.
        return json(404, {
          message: `the manifest of "${model}" in "${stage}" predates client downloads (v1): promote or roll back the stage to republish it`,
        });
      }
      const etag = `"${createHash('sha256').update(body).digest('hex').slice(0, 32)}"`;
      const cache = { etag, 'cache-control': MANIFEST_CACHE_CONTROL };
      const ifNoneMatch = event.headers?.['if-none-match'];
      if (ifNoneMatch?.split(',').some((t) => t.trim() === etag)) {
        return { statusCode: 304, headers: cache };
      }
      logger.debug('manifest served', { model, stage });
      return { statusCode: 200, headers: { 'content-type': 'application/json', ...cache }, body };
    },
  );
}

export const handler = makeManifestHttpHandler(
  once((): ManifestHttpDeps => {
    const env = readEnv(registryEnvSchema);
    return { bucket: env[ENV.bucket], objects: new S3Objects(createS3Client()) };
  }),
);

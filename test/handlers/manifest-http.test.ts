import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Objects } from '../../lambdas/adapters/s3-objects.js';
import { startTestS3, type TestS3 } from '../support/emulators.js';

function event(name: string, stage: string, headers: Record<string, string> = {}): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'GET /models/{name}/{stage}',
    rawPath: `/models/${name}/${stage}`,
    rawQueryString: '',
    headers,
    pathParameters: { name, stage },
    isBase64Encoded: false,
    requestContext: { http: { method: 'GET' } } as APIGatewayProxyEventV2['requestContext'],
  };
}

describe('manifest-http handler', () => {
  let s3: TestS3;
  let handler: (e: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;
  const manifest = { schema: 'mlcycle.manifest/v2', model: 'churn', stage: 'staging', version: '1.2.0' };

  beforeAll(async () => {
    s3 = await startTestS3();
    const bucket = await s3.newBucket();
    Object.assign(process.env, {
      MLCYCLE_BUCKET: bucket,
      MLCYCLE_TABLE: 'unused',
      AWS_ENDPOINT_URL_S3: s3.local.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
    });
    await new S3Objects(s3.local.client).putJson({ bucket, key: 'deployments/churn/staging.json' }, manifest);
    ({ handler } = await import('../../lambdas/handlers/manifest-http.js'));
  });
  afterAll(async () => {
    await s3?.stop();
  });

  it('serves the manifest with a strong ETag, and 304 on revalidation', async () => {
    const first = await handler(event('churn', 'staging'));
    expect(first.statusCode).toBe(200);
    expect(JSON.parse(first.body ?? '{}')).toMatchObject(manifest);
    const etag = String(first.headers?.etag);
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    // Short enough for clients to see a change soon, long enough for the CDN to absorb the polls.
    expect(first.headers?.['cache-control']).toBe('public, max-age=30, s-maxage=60');
    const again = await handler(event('churn', 'staging', { 'if-none-match': etag }));
    expect(again.statusCode).toBe(304);
    expect(again.body).toBeUndefined();
  });

  it('answers 404 naming the model and stage when nothing is deployed', async () => {
    const res = await handler(event('churn', 'production'));
    expect(res.statusCode).toBe(404);
    expect(JSON.parse(res.body ?? '{}').message).toContain('"production"');
  });

  it('does not serve a v1 manifest (its s3:// URI): 404 saying how to republish', async () => {
    const bucket = String(process.env.MLCYCLE_BUCKET);
    await new S3Objects(s3.local.client).putJson(
      { bucket, key: 'deployments/churn/production.json' },
      {
        ...manifest,
        schema: 'mlcycle.manifest/v1',
        artifact: { uri: `s3://${bucket}/runs/churn/r1/model.json` },
      },
    );
    const res = await handler(event('churn', 'production'));
    expect(res.statusCode).toBe(404);
    expect(res.body).not.toContain('s3://');
    expect(JSON.parse(res.body ?? '{}').message).toContain('promote or roll back the stage to republish');
  });

  it('answers 400 for a name that cannot be a model', async () => {
    const res = await handler(event('../etc', 'staging'));
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body ?? '{}').message).toContain('"../etc"');
  });
});

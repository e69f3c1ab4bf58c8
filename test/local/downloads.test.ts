import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishServedArtifact } from '../../lambdas/adapters/registry/served-artifact.js';
import { S3Objects } from '../../lambdas/adapters/s3-objects.js';
import { downloadKey } from '../../lambdas/contracts/s3-layout.js';
import { startLocalApi } from '../../local/api-gateway.js';
import { startTestS3, type TestS3 } from '../support/emulators.js';

/**
 * Issue 13: the served copy of an artifact (verified before any manifest names it) and the local
 * gateway's public download route, CloudFront's bucket origin on the embedded default.
 */

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
/** Deterministic bytes (a seeded LCG), large enough to stream in several chunks. */
function weights(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** A raw request, so HEAD and path forms fetch would normalise reach the server as written. */
function raw(url: string, method: string, path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>(
    (resolve, reject) => {
      const u = new URL(url);
      const req = request({ host: u.hostname, port: u.port, method, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      });
      req.on('error', reject);
      req.end();
    },
  );
}

describe('served artifacts and the local download route', () => {
  let s3: TestS3;
  let bucket: string;
  let objects: S3Objects;
  let api: Awaited<ReturnType<typeof startLocalApi>>;
  const model = weights(3 * 1024 * 1024 + 17, 42);
  const modelSha = sha(model);
  const artifactUri = () => `s3://${bucket}/runs/churn/r1/model.tar.gz`;
  const noLambdas = {
    async invoke(): Promise<unknown> {
      throw new Error('no handler should run for a download');
    },
  };

  beforeAll(async () => {
    s3 = await startTestS3();
    bucket = await s3.newBucket();
    objects = new S3Objects(s3.local.client);
    await objects.put({ bucket, key: 'runs/churn/r1/model.tar.gz' }, model);
    await objects.put({ bucket, key: 'runs/churn/r1/holdout.csv' }, 'private,rows\n1,2\n');
    api = await startLocalApi(noLambdas, { downloads: { objects, bucket } });
  });
  afterAll(async () => {
    await api?.close();
    await s3?.stop();
  });

  it('copies the artifact under downloads/<model>/<sha256>/<file>, verified, and names it under the base URL', async () => {
    const download = await publishServedArtifact(objects, bucket, {
      model: 'churn',
      artifactUri: artifactUri(),
      sha256: modelSha,
      clientBaseUrl: api.url,
    });
    expect(download).toEqual({
      url: `${api.url}downloads/churn/${modelSha}/model.tar.gz`,
      sha256: modelSha,
      size: model.length,
    });
    expect(sha(await objects.getBytes({ bucket, key: downloadKey('churn', modelSha, 'model.tar.gz') }))).toBe(
      modelSha,
    );
    // Published again (a redelivered Deploy, a rollback to it): the same copy, verified again.
    expect(
      await publishServedArtifact(objects, bucket, {
        model: 'churn',
        artifactUri: artifactUri(),
        sha256: modelSha,
        clientBaseUrl: api.url,
      }),
    ).toEqual(download);
  });

  it('refuses, and deletes, a served copy whose bytes are not the recorded ones (planted at the key)', async () => {
    const claimed = sha('the registry’s bytes');
    const key = downloadKey('churn', claimed, 'model.tar.gz');
    await objects.put({ bucket, key }, 'bytes someone planted');
    await expect(
      publishServedArtifact(objects, bucket, {
        model: 'churn',
        artifactUri: artifactUri(),
        sha256: claimed,
        clientBaseUrl: api.url,
      }),
    ).rejects.toMatchObject({
      name: 'ArtifactValidationError',
      message: expect.stringContaining(`has sha256 ${sha('bytes someone planted')}, not ${claimed}`),
    });
    expect(await objects.head({ bucket, key })).toBeUndefined();
  });

  it('streams a served copy with ETag = sha256, immutable caching; 304 on revalidation; HEAD without body', async () => {
    const url = `${api.url}downloads/churn/${modelSha}/model.tar.gz`;
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe(`"${modelSha}"`);
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(res.headers.get('content-length')).toBe(String(model.length));
    expect(sha(Buffer.from(await res.arrayBuffer()))).toBe(modelSha);

    const again = await fetch(url, { headers: { 'if-none-match': `"${modelSha}"` } });
    expect(again.status).toBe(304);
    const head = await raw(api.url, 'HEAD', `/downloads/churn/${modelSha}/model.tar.gz`);
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(model.length));
    expect(head.body.length).toBe(0);
  });

  it('answers 404 naming what was asked for anything that is not a served copy', async () => {
    const paths = [
      `/downloads/churn/${'0'.repeat(64)}/model.tar.gz`, // not served
      `/downloads/churn/not-a-sha/model.tar.gz`,
      `/downloads/churn/${modelSha}/..%2F..%2F..%2Fruns%2Fchurn%2Fr1%2Fholdout.csv`, // an encoded walk
      `/downloads/../runs/churn/r1/holdout.csv`, // a raw one
      `/downloads/Churn/${modelSha}/model.tar.gz`,
    ];
    for (const path of paths) {
      const res = await raw(api.url, 'GET', path);
      expect(res.status, path).toBe(404);
      expect(res.body.toString()).not.toContain('private,rows');
    }
    const res = await raw(api.url, 'GET', `/downloads/churn/${'0'.repeat(64)}/model.tar.gz`);
    expect(JSON.parse(res.body.toString()).message).toBe(
      `no served artifact churn/${'0'.repeat(64)}/model.tar.gz: take the download URL from GET /models/<model>/<stage>`,
    );
  });

  it('works with curl: the downloaded file hashes to the sha256', async () => {
    if (!existsSync('/usr/bin/curl') && !existsSync('/usr/local/bin/curl')) {
      console.warn('skipped: curl is not installed');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'mlcycle-curl-'));
    try {
      const file = join(dir, 'model.tar.gz');
      await promisify(execFile)('curl', [
        '-sS',
        '--fail',
        '-o',
        file,
        `${api.url}downloads/churn/${modelSha}/model.tar.gz`,
      ]);
      expect(sha(readFileSync(file))).toBe(modelSha);
      const missing = await promisify(execFile)('curl', [
        '-s',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        `${api.url}downloads/churn/${'0'.repeat(64)}/model.tar.gz`,
      ]);
      expect(missing.stdout).toBe('404');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

import { createHash } from 'node:crypto';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../lambdas/adapters/config-file.js';
import { readManifest } from '../../../lambdas/adapters/registry/manifest.js';
import { Registry } from '../../../lambdas/adapters/registry/registry.js';
import { S3Objects } from '../../../lambdas/adapters/s3-objects.js';
import type { Lineage } from '../../../lambdas/domain/registry/types.js';
import { rollback } from '../../../lambdas/services/registry/rollback.js';
import { startTestDynamo, startTestS3, type TestDynamo, type TestS3 } from '../../support/emulators.js';

const metrics = { auc: 0.8, accuracy: 0.7, precision: 0.6, recall: 0.5, f1: 0.55, logLoss: 0.5 };
const sha = (bytes: string) => createHash('sha256').update(bytes).digest('hex');

describe('rollback on DynamoDB Local and s3rver', () => {
  let dynamo: TestDynamo;
  let s3: TestS3;
  let registry: Registry;
  let objects: S3Objects;
  let bucket: string;
  let tableName: string;

  beforeAll(async () => {
    [dynamo, s3] = await Promise.all([startTestDynamo(), startTestS3()]);
    objects = new S3Objects(s3.local.client);
  });
  afterAll(async () => {
    await Promise.allSettled([dynamo?.stop(), s3?.stop()]);
  });
  beforeEach(async () => {
    [tableName, bucket] = await Promise.all([dynamo.newTable(), s3.newBucket()]);
    registry = new Registry(dynamo.doc, tableName);
  });

  /** Registers a version whose artifact really exists in S3 with the recorded sha256. */
  async function version(runId: string): Promise<string> {
    const body = `model weights of ${runId}`;
    const key = `runs/churn/${runId}/model.json`;
    await objects.put({ bucket, key }, body, 'application/json');
    const lineage: Lineage = {
      parentVersion: null,
      datasetUri: `s3://${bucket}/datasets/churn/d.csv`,
      datasetSha256: 'a'.repeat(64),
      codeVersion: 'abc',
      runId,
      hyperparameters: {},
      framework: 'mlcycle-logreg@1.0.0',
      artifactUri: `s3://${bucket}/${key}`,
      artifactSha256: sha(body),
      author: 'dev@studio.test',
    };
    return (await registry.versions.registerVersion({ model: 'churn', bump: 'minor', lineage, metrics }))
      .version;
  }

  const promote = (v: string) =>
    registry.stages.promote({
      model: 'churn',
      stage: 'production',
      version: v,
      actor: 'dev@studio.test',
      reason: `ship ${v}`,
      action: 'promote',
    });

  /** The deployed policy: production approvers may roll back; ops@ may too, explicitly. */
  const config = parseConfig(
    {
      models: { churn: { target: 'churned' } },
      environments: {
        staging: { approvers: ['lead@studio.test'] },
        production: {
          approvers: ['lead@studio.test', 'other@studio.test'],
          quorum: 1,
          rollbackBy: ['lead@studio.test', 'ops@studio.test'],
        },
      },
    },
    'rollback test config',
  );
  const deps = () => ({ registry, objects, bucket, config, clientBaseUrl: 'http://127.0.0.1:9/' });
  const tableItems = async () => {
    const out = await dynamo.doc.send(new ScanCommand({ TableName: tableName, ConsistentRead: true }));
    return (out.Items ?? []).map((i) => JSON.stringify(i)).sort();
  };

  it('moves the stage back to the previous ledger entry, audits it and republishes the manifest', async () => {
    const v1 = await version('r1');
    const v2 = await version('r2');
    await promote(v1);
    await promote(v2);

    const out = await rollback(deps(), {
      model: 'churn',
      stage: 'production',
      reason: 'retention regressed',
      actor: 'lead@studio.test',
    });

    expect(out.entry).toMatchObject({
      seq: 3,
      action: 'rollback',
      fromVersion: v2,
      toVersion: v1,
      actor: 'lead@studio.test',
      reason: 'retention regressed',
    });
    expect(out.entry.evidence.validation).toMatchObject({ sha256: sha('model weights of r1') });
    expect(await registry.stages.getStage('churn', 'production')).toMatchObject({
      version: v1,
      ledgerSeq: 3,
    });
    expect(await readManifest(objects, bucket, 'churn', 'production')).toMatchObject({
      version: v1,
      action: 'rollback',
      previousVersion: v2,
      ledgerSeq: 3,
      download: {
        url: `http://127.0.0.1:9/downloads/churn/${sha('model weights of r1')}/model.json`,
        sha256: sha('model weights of r1'),
        size: 'model weights of r1'.length,
      },
    });
    // The served copy holds the target's bytes.
    expect(
      await objects.getText({ bucket, key: `downloads/churn/${sha('model weights of r1')}/model.json` }),
    ).toBe('model weights of r1');
    // public: who rolled back (and who promoted before) stays in the ledger
    expect(await objects.getText({ bucket, key: 'deployments/churn/production.json' })).not.toContain('@');
    expect((await registry.stages.history('churn', { stage: 'production' })).map((e) => e.action)).toEqual([
      'rollback',
      'promote',
      'promote',
    ]);
  });

  it('rolls back to a named version', async () => {
    const v1 = await version('r1');
    const v2 = await version('r2');
    const v3 = await version('r3');
    for (const v of [v1, v2, v3]) await promote(v);
    const out = await rollback(deps(), {
      model: 'churn',
      stage: 'production',
      to: v1,
      reason: 'back to the known good one',
      actor: 'lead@studio.test',
    });
    expect(out.entry).toMatchObject({ fromVersion: v3, toVersion: v1 });
  });

  it('refuses when nothing serves, or the serving version is the first, writing nothing', async () => {
    const v1 = await version('r1');
    await expect(
      rollback(deps(), { model: 'churn', stage: 'production', reason: 'x', actor: 'lead@studio.test' }),
    ).rejects.toThrow(/nothing serves churn in production/);

    await promote(v1);
    const before = await registry.stages.history('churn', { stage: 'production' });
    await expect(
      rollback(deps(), { model: 'churn', stage: 'production', reason: 'x', actor: 'lead@studio.test' }),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringMatching(/first version to serve production/),
    });
    expect(await registry.stages.history('churn', { stage: 'production' })).toEqual(before);
  });

  it('refuses a target whose artifact was altered or deleted, leaving pointer, ledger and manifest as they were', async () => {
    const v1 = await version('r1');
    const v2 = await version('r2');
    await promote(v1);
    await promote(v2);
    const pointer = await registry.stages.getStage('churn', 'production');
    const ledger = await registry.stages.history('churn');
    const snapshot = await tableItems();

    await objects.put({ bucket, key: 'runs/churn/r1/model.json' }, 'tampered weights');
    await expect(
      rollback(deps(), { model: 'churn', stage: 'production', reason: 'x', actor: 'lead@studio.test' }),
    ).rejects.toMatchObject({
      name: 'ArtifactValidationError',
      message: expect.stringMatching(/runs\/churn\/r1\/model\.json has sha256 .* registry recorded/),
    });

    await s3.local.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'runs/churn/r1/model.json' }));
    await expect(
      rollback(deps(), { model: 'churn', stage: 'production', reason: 'x', actor: 'lead@studio.test' }),
    ).rejects.toThrow(/does not exist/);

    expect(await registry.stages.getStage('churn', 'production')).toEqual(pointer);
    expect(await registry.stages.history('churn')).toEqual(ledger);
    expect(await tableItems()).toEqual(snapshot);
    expect(await readManifest(objects, bucket, 'churn', 'production')).toBeUndefined();
  });

  it('refuses to roll back onto the version already serving, or an unknown one', async () => {
    const v1 = await version('r1');
    const v2 = await version('r2');
    await promote(v1);
    await promote(v2);
    const as = 'lead@studio.test';
    await expect(
      rollback(deps(), { model: 'churn', stage: 'production', to: v2, reason: 'x', actor: as }),
    ).rejects.toThrow(`churn ${v2} already serves production`);
    await expect(
      rollback(deps(), { model: 'churn', stage: 'production', to: '9.9.9', reason: 'x', actor: as }),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('never served production'),
    });
    expect((await registry.stages.getStage('churn', 'production'))?.version).toBe(v2);
  });

  it('is a back door to nothing: a version that never served the stage is refused with "use promote", writing nothing', async () => {
    const v1 = await version('r1');
    const v2 = await version('r2');
    const neverGated = await version('r3');
    await promote(v1);
    await promote(v2);
    const snapshot = await tableItems();
    await expect(
      rollback(deps(), {
        model: 'churn',
        stage: 'production',
        to: neverGated,
        reason: 'ship it without approvals',
        actor: 'lead@studio.test',
      }),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringMatching(
        new RegExp(
          `churn ${neverGated} never served production.*mlcycle models promote churn ${neverGated} --stage production`,
        ),
      ),
    });
    expect(await tableItems()).toEqual(snapshot);
  });

  it('refuses a version rejected for the stage since it last served, by name and when walking back', async () => {
    const v1 = await version('r1');
    const v2 = await version('r2');
    const v3 = await version('r3');
    await promote(v1);
    await promote(v2);
    // v1 was proposed again and rejected, then v3 shipped: v1 is no rollback target any more.
    await registry.stages.recordRejection({
      model: 'churn',
      stage: 'production',
      version: v1,
      requestId: 'req-again',
      actor: 'other@studio.test',
      reason: 'the crash bug is back in it',
      evidence: {},
    });
    await promote(v3);
    const snapshot = await tableItems();
    await expect(
      rollback(deps(), {
        model: 'churn',
        stage: 'production',
        to: v1,
        reason: 'x',
        actor: 'lead@studio.test',
      }),
    ).rejects.toThrow(new RegExp(`churn ${v1} was rejected for production by other@studio.test`));
    expect(await tableItems()).toEqual(snapshot);
    // The default walks back to v2 (it served, and nobody rejected it since).
    const out = await rollback(deps(), {
      model: 'churn',
      stage: 'production',
      reason: 'v3 regressed',
      actor: 'lead@studio.test',
    });
    expect(out.entry).toMatchObject({ fromVersion: v3, toVersion: v2 });
  });

  it('only those the stage allows may roll back (rollbackBy, else its approvers); the ledger names who', async () => {
    const v1 = await version('r1');
    const v2 = await version('r2');
    await promote(v1);
    await promote(v2);
    const snapshot = await tableItems();
    for (const actor of ['dev@studio.test', 'other@studio.test']) {
      await expect(
        rollback(deps(), { model: 'churn', stage: 'production', reason: 'x', actor }),
      ).rejects.toMatchObject({
        name: 'ForbiddenError',
        message: expect.stringContaining(`${actor} may not roll back production`),
      });
    }
    expect(await tableItems()).toEqual(snapshot);
    const out = await rollback(deps(), {
      model: 'churn',
      stage: 'production',
      reason: 'paged: crash rate',
      actor: 'ops@studio.test',
    });
    expect(out.entry).toMatchObject({ action: 'rollback', actor: 'ops@studio.test', toVersion: v1 });
  });

  it('invalidates the CDN’s cached manifest once per ledger entry; a failed invalidation is reported, not a failed rollback', async () => {
    const v1 = await version('r1');
    const v2 = await version('r2');
    await promote(v1);
    await promote(v2);
    const asked: { paths: readonly string[]; ref: string }[] = [];
    const cdn = {
      async invalidate(paths: readonly string[], ref: string) {
        asked.push({ paths, ref });
        return 'I1';
      },
    };
    const input = { model: 'churn', stage: 'production', reason: 'crash rate', actor: 'lead@studio.test' };
    const out = await rollback({ ...deps(), cdn }, input);
    expect(asked).toEqual([
      { paths: ['/models/churn/production'], ref: `churn/production#${out.entry.seq}` },
    ]);
    expect(out.invalidation).toEqual({ id: 'I1' });

    // The CDN refuses: the stage moved and the manifest says so; edges catch up within s-maxage.
    const down = {
      async invalidate(): Promise<string> {
        throw new Error('CloudFront CreateInvalidation on E1 answered 403: AccessDenied');
      },
    };
    const again = await rollback({ ...deps(), cdn: down }, { ...input, to: v2 });
    expect(again.invalidation).toEqual({
      error: 'CloudFront CreateInvalidation on E1 answered 403: AccessDenied',
    });
    expect(await readManifest(objects, bucket, 'churn', 'production')).toMatchObject({
      version: v2,
      ledgerSeq: again.entry.seq,
    });
  });
});

import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifest } from '../../lambdas/adapters/registry/manifest.js';
import { readHead } from '../../lambdas/adapters/registry/smoke-sample.js';
import { parseS3Uri } from '../../lambdas/adapters/s3-objects.js';
import type { RunInfo } from '../../lambdas/contracts/pipeline.js';
import { loadModel, predictProba } from '../../lambdas/domain/ml/artifact.js';
import { parseCsv } from '../../lambdas/domain/ml/dataset.js';
import type { TrainingSummary } from '../../lambdas/domain/ml/training-summary.js';
import type { VersionRecord } from '../../lambdas/domain/registry/types.js';
import {
  approvedState,
  CLIENT_BASE_URL,
  evaluationOf,
  type HandlerWorld,
  handlerWorld,
  lifecycleState,
  lineageFor,
  MODEL,
  passedGate,
  pipelineState,
  putRun,
  REQUESTOR,
  registerTrained,
  runInfo,
  sha256,
  train,
  uploadDataset,
} from './fixtures.js';

type Handler = (event: unknown) => Promise<unknown>;
interface DeployResult {
  version: string;
  previousVersion: string | null;
  ledgerSeq: number;
  manifestKey: string;
  published: unknown;
  validation: {
    sha256: string;
    size: number;
    smokePredictions: number[];
    smokeSample: {
      source: string;
      uri: string | null;
      rows: number;
      skipped: { uri: string; why: string }[];
    };
  };
  redelivered: boolean;
  supersededBy: { version: string; ledgerSeq: number } | null;
}

describe('deploy handler (Deploy state, DynamoDB Local + s3rver)', () => {
  let w: HandlerWorld;
  let handler: Handler;
  const trained = new Map<string, { run: RunInfo; summary: TrainingSummary }>();

  /** Trains a run and registers its version (validating), as Train → Evaluate → Register do. */
  async function candidate(runId: string): Promise<{ run: RunInfo; version: VersionRecord }> {
    const run = runInfo(w.bucket, runId);
    await putRun(w, run);
    const summary = await train(w, run);
    trained.set(runId, { run, summary });
    return { run, version: await registerTrained(w, run, summary) };
  }
  /** The Deploy state's input: everything before it, with $.approval when approvers decided. */
  async function deployState(run: RunInfo, version: VersionRecord, stage = 'staging') {
    const t = trained.get(run.runId);
    if (!t) throw new Error(`run ${run.runId} was not trained`);
    return approvedState(
      w,
      lifecycleState({
        input: pipelineState({ stage, reason: 'better recall' }),
        run,
        evaluation: evaluationOf(run, t.summary),
        registration: { version: version.version, parentVersion: null },
        gate: passedGate(),
      }),
      `req-${version.version}`,
    );
  }
  const deploy = async (event: unknown) => (await handler(event)) as DeployResult;
  /** What the model predicts on the first rows of a CSV, computed here independently of Deploy. */
  async function predictionsOn(artifactUri: string, csvUri: string, n = 5): Promise<number[]> {
    const model = loadModel(await w.objects.getText(parseS3Uri(artifactUri)));
    const { rows } = parseCsv(await w.objects.getText(parseS3Uri(csvUri)), csvUri);
    return rows.slice(0, n).map((row) => Math.round(predictProba(model, row) * 1e4) / 1e4);
  }
  const snapshot = async () => `${await w.scan()}\n${await w.s3Snapshot()}`;

  beforeAll(async () => {
    w = await handlerWorld('deploy');
    await uploadDataset(w);
    ({ handler } = (await import('../../lambdas/handlers/deploy.js')) as { handler: Handler });
  });
  afterAll(async () => {
    await w?.stop();
  });

  it('validates, promotes with a ledger entry carrying the evidence, publishes the manifest, ends the run', async () => {
    const { run, version } = await candidate('r1');
    const artifact = await w.objects.getBytes(parseS3Uri(version.lineage.artifactUri));

    const state = await deployState(run, version);
    const out = await deploy(state);

    expect(out).toEqual({
      version: '1.0.0',
      previousVersion: null,
      ledgerSeq: 1,
      manifestKey: 'deployments/churn/staging.json',
      validation: {
        sha256: sha256(artifact),
        size: artifact.length,
        smokePredictions: expect.any(Array),
        smokeSample: { source: 'holdout', uri: `${run.outputUri}holdout.csv`, rows: 5, skipped: [] },
      },
      // No CDN in this world: nothing to invalidate.
      published: {
        download: {
          url: `${CLIENT_BASE_URL}downloads/${MODEL}/${sha256(artifact)}/model.json`,
          sha256: sha256(artifact),
          size: artifact.length,
        },
        invalidation: null,
      },
      redelivered: false,
      supersededBy: null,
    });
    // The served copy is the artifact's bytes, under its content-addressed key, cached forever.
    const served = { bucket: w.bucket, key: `downloads/${MODEL}/${sha256(artifact)}/model.json` };
    expect(await w.objects.getBytes(served)).toEqual(artifact);
    // The predictions are the model's on the first held-out rows, not placeholders.
    expect(out.validation.smokePredictions).toEqual(
      await predictionsOn(version.lineage.artifactUri, `${run.outputUri}holdout.csv`),
    );
    for (const p of out.validation.smokePredictions) expect(p > 0 && p < 1).toBe(true);

    expect(await w.registry.stages.getStage(MODEL, 'staging')).toMatchObject({
      version: '1.0.0',
      ledgerSeq: 1,
    });
    expect((await w.registry.versions.getVersion(MODEL, '1.0.0'))?.status).toBe('ready');
    const ledger = await w.registry.stages.history(MODEL, { stage: 'staging' });
    expect(ledger).toEqual([
      expect.objectContaining({
        seq: 1,
        action: 'promote',
        fromVersion: null,
        toVersion: '1.0.0',
        actor: REQUESTOR,
        reason: 'better recall',
        evidence: {
          gate: passedGate(),
          approvals: state.approval.approvedBy,
          validation: out.validation,
          requestId: 'req-1.0.0',
          idempotencyKey: 'run:r1',
        },
      }),
    ]);
    expect(await readManifest(w.objects, w.bucket, MODEL, 'staging')).toEqual({
      schema: 'mlcycle.manifest/v2',
      model: MODEL,
      stage: 'staging',
      version: '1.0.0',
      download: {
        url: `${CLIENT_BASE_URL}downloads/${MODEL}/${sha256(artifact)}/model.json`,
        sha256: sha256(artifact),
        size: artifact.length,
      },
      metrics: version.metrics,
      promotedAt: ledger[0]?.at,
      ledgerSeq: 1,
      previousVersion: null,
      action: 'promote',
    });
    expect(await w.registry.runs.getRun(MODEL, 'r1')).toMatchObject({
      status: 'succeeded',
      finishedAt: expect.any(String),
    });
  });

  it('is idempotent when redelivered: no second ledger entry, and a lost manifest is republished', async () => {
    const version = await w.registry.versions.requireVersion(MODEL, '1.0.0');
    const state = await deployState(runInfo(w.bucket, 'r1'), version);
    const ledgerBefore = await w.registry.stages.history(MODEL);
    const manifestBefore = await readManifest(w.objects, w.bucket, MODEL, 'staging');

    const runBefore = await w.registry.runs.getRun(MODEL, 'r1');
    const again = await deploy(state);
    expect(again).toMatchObject({
      version: '1.0.0',
      ledgerSeq: 1,
      previousVersion: null,
      redelivered: true,
      supersededBy: null,
    });
    expect(await w.registry.stages.history(MODEL)).toEqual(ledgerBefore);
    expect(await w.registry.runs.getRun(MODEL, 'r1')).toEqual(runBefore);

    // The first attempt moved the pointer but died before publishing: the retry only publishes.
    await w.s3.local.client.send(
      new DeleteObjectCommand({ Bucket: w.bucket, Key: 'deployments/churn/staging.json' }),
    );
    await deploy(state);
    expect(await w.registry.stages.history(MODEL)).toEqual(ledgerBefore);
    expect(await readManifest(w.objects, w.bucket, MODEL, 'staging')).toEqual(manifestBefore);
  });

  it('the next version replaces it: previous version and the next ledger sequence number', async () => {
    const { run, version } = await candidate('r2');
    const out = await deploy(await deployState(run, version));
    expect(out).toMatchObject({ version: '1.1.0', previousVersion: '1.0.0', ledgerSeq: 2 });
    expect(await w.registry.stages.getStage(MODEL, 'staging')).toMatchObject({
      version: '1.1.0',
      ledgerSeq: 2,
    });
    expect(await readManifest(w.objects, w.bucket, MODEL, 'staging')).toMatchObject({
      version: '1.1.0',
      previousVersion: '1.0.0',
      ledgerSeq: 2,
    });
  });

  it('a Deploy redelivered after a newer version deployed moves nothing back and adds no ledger entry', async () => {
    // r1's Deploy (1.0.0) is delivered again — a Lambda retry, a Step Functions Retry — after
    // r2's execution deployed 1.1.0 to the same stage.
    const state = await deployState(
      runInfo(w.bucket, 'r1'),
      await w.registry.versions.requireVersion(MODEL, '1.0.0'),
    );
    const first = (await w.registry.stages.history(MODEL, { stage: 'staging' })).find((e) => e.seq === 1);
    const before = await snapshot();

    const again = await deploy(state);

    expect(again).toMatchObject({
      version: '1.0.0',
      previousVersion: null,
      ledgerSeq: 1,
      redelivered: true,
      supersededBy: { version: '1.1.0', ledgerSeq: 2 },
      validation: first?.evidence.validation,
    });
    expect(await snapshot()).toBe(before);
    expect(await w.registry.stages.getStage(MODEL, 'staging')).toMatchObject({
      version: '1.1.0',
      ledgerSeq: 2,
    });
    expect(await readManifest(w.objects, w.bucket, MODEL, 'staging')).toMatchObject({ version: '1.1.0' });
  });

  it('refuses a missing artifact with ArtifactValidationError; pointer, ledger and manifest untouched', async () => {
    const { run, version } = await candidate('r3');
    const loc = parseS3Uri(version.lineage.artifactUri);
    await w.s3.local.client.send(new DeleteObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
    const state = await deployState(run, version);
    const before = await snapshot();
    await expect(deploy(state)).rejects.toMatchObject({
      name: 'ArtifactValidationError',
      message: expect.stringContaining(`artifact ${version.lineage.artifactUri} does not exist`),
    });
    expect(await snapshot()).toBe(before);
    expect((await w.registry.stages.getStage(MODEL, 'staging'))?.version).toBe('1.1.0');
  });

  it('refuses an artifact altered after registration (checksum), leaving everything untouched', async () => {
    const { run, version } = await candidate('r4');
    const loc = parseS3Uri(version.lineage.artifactUri);
    const model = JSON.parse(await w.objects.getText(loc)) as { bias: number };
    model.bias += 0.5;
    await w.objects.put(loc, JSON.stringify(model), 'application/json');
    const state = await deployState(run, version);
    const before = await snapshot();
    await expect(deploy(state)).rejects.toMatchObject({
      name: 'ArtifactValidationError',
      message: expect.stringContaining(`but the registry recorded ${version.lineage.artifactSha256}`),
    });
    expect(await snapshot()).toBe(before);
  });

  it('refuses an artifact that matches its checksum but does not load (smoke test), untouched', async () => {
    const run = runInfo(w.bucket, 'r5');
    await putRun(w, run);
    const r1 = trained.get('r1');
    if (!r1) throw new Error('r1 not trained');
    trained.set('r5', r1);
    const broken = '{"format":"mlcycle-logreg/v1","weights":[1,2';
    const loc = { bucket: w.bucket, key: 'runs/churn/r5/model.json' };
    await w.objects.put(loc, broken, 'application/json');
    await w.objects.put(
      { bucket: w.bucket, key: 'runs/churn/r5/holdout.csv' },
      await w.objects.getText({ bucket: w.bucket, key: 'runs/churn/r1/holdout.csv' }),
      'text/csv',
    );
    const version = await w.registry.versions.registerVersion({
      model: MODEL,
      bump: 'minor',
      metrics: (await w.registry.versions.requireVersion(MODEL, '1.0.0')).metrics,
      lineage: lineageFor(w.bucket, 'r5', { artifactSha256: sha256(broken) }),
    });
    const state = await deployState(run, version);
    const before = await snapshot();
    await expect(deploy(state)).rejects.toMatchObject({
      name: 'ArtifactValidationError',
      message: expect.stringContaining('model artifact is not JSON'),
    });
    expect(await snapshot()).toBe(before);
  });

  it('refuses a version that may not serve (rejected) with IllegalTransitionError, untouched', async () => {
    const { run, version } = await candidate('r6');
    await w.registry.versions.transition(MODEL, version.version, 'rejected', 'gate failed', 'mlcycle');
    const state = await deployState(run, version);
    const before = await snapshot();
    await expect(deploy(state)).rejects.toMatchObject({
      name: 'IllegalTransitionError',
      message: expect.stringContaining(`${version.version} is rejected`),
    });
    expect(await snapshot()).toBe(before);
  });

  /** `mlcycle models register` of an artifact kept outside any run: nothing lies beside it. */
  async function registerExternal(key: string, body: Buffer | string, datasetUri: string) {
    await w.objects.put({ bucket: w.bucket, key }, body, 'application/json');
    return w.registry.versions.registerVersion({
      model: MODEL,
      bump: 'major',
      metrics: (await w.registry.versions.requireVersion(MODEL, '1.0.0')).metrics,
      lineage: lineageFor(w.bucket, '', {
        artifactUri: `s3://${w.bucket}/${key}`,
        artifactSha256: sha256(body),
        datasetUri,
        modelCardUri: undefined,
      }),
    });
  }
  /** `mlcycle models promote`: LoadCandidate's state, then Gate and Approve's results. */
  async function promotionState(version: string, stage: string): Promise<Record<string, unknown>> {
    const { handler: loadCandidate } = (await import('../../lambdas/handlers/load-candidate.js')) as {
      handler: Handler;
    };
    const loaded = (await loadCandidate(pipelineState({ stage, promote: version }))) as Record<
      string,
      unknown
    >;
    const candidate = loaded as ReturnType<typeof pipelineState> & {
      registration: { version: string; parentVersion: string | null };
    };
    return { ...(await approvedState(w, candidate, `req-${stage}-${version}`)), gate: passedGate() };
  }
  const trainedArtifact = async () => {
    const r1 = trained.get('r1');
    if (!r1) throw new Error('r1 not trained');
    return w.objects.getBytes(parseS3Uri(r1.summary.artifactUri));
  };
  const dataset = () => `s3://${w.bucket}/datasets/${MODEL}/churn.csv`;

  it('deploys a version registered outside a pipeline, smoke-tested on real rows of its dataset; once per execution', async () => {
    const version = await registerExternal('external/v9/model.json', await trainedArtifact(), dataset());
    const state = await promotionState(version.version, 'production');
    const runsBefore = await w.registry.runs.listRuns(MODEL);

    const out = await deploy(state);

    expect(out).toMatchObject({
      version: version.version,
      previousVersion: null,
      ledgerSeq: 1,
      redelivered: false,
      supersededBy: null,
    });
    expect(out.validation.smokeSample).toEqual({
      source: 'dataset',
      uri: dataset(),
      rows: 5,
      skipped: [{ uri: `s3://${w.bucket}/external/v9/holdout.csv`, why: 'does not exist' }],
    });
    expect(out.validation.smokePredictions).toEqual(
      await predictionsOn(version.lineage.artifactUri, dataset()),
    );
    for (const p of out.validation.smokePredictions) expect(p > 0 && p < 1).toBe(true);
    expect(await w.registry.stages.getStage(MODEL, 'production')).toMatchObject({ version: version.version });
    expect(await readManifest(w.objects, w.bucket, MODEL, 'production')).toMatchObject({
      version: version.version,
      download: {
        url: `${CLIENT_BASE_URL}downloads/${MODEL}/${version.lineage.artifactSha256}/${version.lineage.artifactUri.split('/').pop()}`,
        sha256: version.lineage.artifactSha256,
      },
    });
    expect(await w.registry.runs.listRuns(MODEL)).toEqual(runsBefore);
    const [entry] = await w.registry.stages.history(MODEL, { stage: 'production' });
    expect(entry?.evidence).toMatchObject({
      idempotencyKey: `promotion:${String(state.promotionId)}`,
      requestId: `req-production-${version.version}`,
    });

    // Redelivered: the same entry, nothing written.
    const before = await snapshot();
    expect(await deploy(state)).toMatchObject({ ledgerSeq: 1, redelivered: true, supersededBy: null });
    expect(await snapshot()).toBe(before);
  });

  it("without a dataset either, it is smoke-tested on rows built from the artifact's feature schema", async () => {
    const version = await registerExternal('external/v10/model.json', await trainedArtifact(), '');
    const previous = await w.registry.stages.getStage(MODEL, 'production');

    const out = await deploy(await promotionState(version.version, 'production'));

    expect(out).toMatchObject({ version: version.version, previousVersion: previous?.version, ledgerSeq: 2 });
    expect(out.validation.smokeSample).toMatchObject({ source: 'schema', uri: null, rows: 5 });
    const predictions = out.validation.smokePredictions;
    expect(predictions).toHaveLength(5);
    for (const p of predictions) expect(Number.isFinite(p) && p >= 0 && p <= 1).toBe(true);
    // Real scores: rows at different points of the feature space get different probabilities.
    expect(new Set(predictions).size).toBeGreaterThan(1);
    expect(await w.registry.stages.getStage(MODEL, 'production')).toMatchObject({
      version: version.version,
      ledgerSeq: 2,
    });
  });

  it('an external artifact that does not load, or does not match its dataset, fails ArtifactValidationError, untouched', async () => {
    const broken = await registerExternal(
      'external/v11/model.json',
      '{"format":"mlcycle-logreg/v1","bias":',
      '',
    );
    const brokenState = await promotionState(broken.version, 'production');
    const before = await snapshot();
    await expect(deploy(brokenState)).rejects.toMatchObject({
      name: 'ArtifactValidationError',
      message: expect.stringContaining('model artifact is not JSON'),
    });
    expect(await snapshot()).toBe(before);
    const wrongData = `s3://${w.bucket}/datasets/other/shop.csv`;
    await w.objects.put(parseS3Uri(wrongData), 'basket,spend\n3,10.5\n1,2\n', 'text/csv');
    const mismatched = await registerExternal('external/v12/model.json', await trainedArtifact(), wrongData);
    const state = await promotionState(mismatched.version, 'production');
    const beforeMismatch = await snapshot();
    await expect(deploy(state)).rejects.toMatchObject({
      name: 'ArtifactValidationError',
      message: expect.stringMatching(
        /the model reads .*"sessions_per_week".*which the dataset sample .* does not have/,
      ),
    });
    expect(await snapshot()).toBe(beforeMismatch);
  });

  it('reads only the head of a large sample, cut after a complete line', async () => {
    const loc = { bucket: w.bucket, key: 'datasets/other/big.csv' };
    const lines = ['a,b', ...Array.from({ length: 4000 }, (_, i) => `${i},${i * 2}`)];
    await w.objects.put(loc, `${lines.join('\n')}\n`, 'text/csv');
    const head = await readHead(w.objects, `s3://${loc.bucket}/${loc.key}`, 1000);
    expect(head?.length).toBeLessThanOrEqual(1000);
    expect(head?.endsWith('\n')).toBe(true);
    expect(`${lines.join('\n')}\n`.startsWith(head ?? 'x')).toBe(true);
    expect(await readHead(w.objects, `s3://${loc.bucket}/datasets/other/none.csv`)).toBeUndefined();
  });

  it('invalid state ⇒ ValidationError naming the field, nothing written', async () => {
    const version = await w.registry.versions.requireVersion(MODEL, '1.1.0');
    const state = await deployState(runInfo(w.bucket, 'r2'), version);
    const { gate: _g, ...noGate } = state;
    const before = await snapshot();
    await expect(deploy(noGate)).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('Deploy input: gate'),
    });
    await expect(deploy({ ...state, approval: { requestId: 'x' } })).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('approval.approvedBy'),
    });
    expect(await snapshot()).toBe(before);
  });
});

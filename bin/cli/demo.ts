import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { unpackArchive } from '../../lambdas/adapters/pipeline/model-archive.js';
import { S3Objects } from '../../lambdas/adapters/s3-objects.js';
import {
  type DriftSummary,
  driftLatestKey,
  driftSummarySchema,
} from '../../lambdas/contracts/drift-summary.js';
import { type ClientManifest, clientManifestSchema } from '../../lambdas/contracts/manifest.js';
import type { GateOutcome, Metrics } from '../../lambdas/contracts/pipeline.js';
import { monitoringKey } from '../../lambdas/contracts/s3-layout.js';
import { loadModel, predictProba } from '../../lambdas/domain/ml/artifact.js';
import { churnCsv } from '../../local/data/churn.js';
import { startLocalStack } from '../../local/runtime.js';
import { loadRunnableConfig } from '../../local/trainers/config-trainers.js';
import { globalOptions } from './context.js';
import { ControlClient } from './control-client.js';
import { type ApprovalVisit, readOutbox } from './demo-approver.js';
import { type DemoCanary, demoCanary } from './demo-canary.js';
import { DEMO_DATASETS, type LifecycleContext, trainAndDeploy } from './demo-lifecycle.js';
import { type DemoSweep, demoSweep } from './demo-sweep.js';
import { createOutput } from './output.js';

export interface DemoSummary {
  readonly execution: string;
  readonly status: string;
  readonly model: string;
  readonly version: string | null;
  readonly stage: string;
  readonly metrics: Metrics | null;
  readonly gates: GateOutcome | null;
  readonly approvals: ApprovalVisit[];
  readonly manifest: { url: string; status: number; etag: string | null; notModified: boolean };
  readonly drift: DriftSummary | null;
  /** The other models trained (other frameworks, other tasks), each through the whole lifecycle. */
  readonly others: DemoModelRun[];
  /** The canary on production (a retrained version at 10 %) and how its guardrail ended it. */
  readonly canary: DemoCanary | null;
  /** The hyperparameter sweep of the segments network (when the demo trains it). */
  readonly sweep: DemoSweep | null;
  readonly outbox: string[];
  readonly timings: Record<string, number>;
  readonly seconds: number;
}

const REQUESTOR = 'demo-requestor@studio.example';
/** The model the demo sweeps: its trainer writes a metrics line per epoch, so trials stop mid-way. */
const SWEPT_MODEL = 'segments';

/** What a model besides the main one did in the demo. */
export interface DemoModelRun {
  readonly model: string;
  readonly trainer: string;
  readonly status: string;
  readonly error: string | null;
  readonly version: string | null;
  readonly metrics: Metrics | null;
  readonly reportedMetrics: Record<string, number> | null;
  readonly gates: GateOutcome | null;
}

/**
 * The whole lifecycle on the embedded default, as a user would drive it: a generated dataset is
 * uploaded, the state machine trains, evaluates, registers, gates, waits for approval — given by
 * following the emailed link over HTTP — and deploys; then a baseline and a drifted production
 * batch are uploaded and the S3 events produce a drift result.
 */
export async function runDemo(options: {
  configPath: string;
  dir: string;
  model: string;
  rows: number;
  seed: number;
  info: (line: string) => void;
  /** Models trained after the main one (contract trainers: scikit-learn, PyTorch). */
  alsoModels?: readonly string[];
  /** Run the production canary after the drift check. @default true */
  canary?: boolean;
}): Promise<DemoSummary> {
  const started = Date.now();
  const { info } = options;
  const config = loadRunnableConfig(options.configPath);
  const model = options.model;
  const modelConfig = config.models[model];
  if (!modelConfig) throw new Error(`model "${model}" is not in ${options.configPath}`);
  const stage = modelConfig.schedule.stage;
  const timings: Record<string, number> = {};
  const lap = (name: string, since: number) => {
    timings[name] = Date.now() - since;
  };

  info(`▶ starting the local stack in ${options.dir} (DynamoDB Local, s3rver, Step Functions, HTTP API)`);
  let t = Date.now();
  const stack = await startLocalStack({ config, dir: options.dir, fresh: true });
  lap('stackStart', t);
  info(`  up in ${((Date.now() - t) / 1000).toFixed(1)} s; approval pages at ${stack.endpoints.api}`);
  try {
    const { bucket, api, outboxDir } = stack.endpoints;
    const objects = new S3Objects(stack.s3.client);
    const { SFNClient } = await import('@aws-sdk/client-sfn');
    const sfn = new SFNClient({});
    // As a person would: through the control API, which records who asks.
    const control = new ControlClient(api, { kind: 'local', actor: REQUESTOR });

    const ctx: LifecycleContext = { stack, objects, sfn, control, config, seed: options.seed, info, timings };
    t = Date.now();
    const main = await trainAndDeploy(ctx, model, options.rows);
    lap('lifecycle', t);
    const { execution, final, version, evaluation, gates, approvals } = main;
    // The other models the config trains with other frameworks (contract trainers), each through
    // the same lifecycle: split, train, predict, measured evaluation, its own gates, approval, deploy.
    const others: DemoModelRun[] = [];
    const alsoModels =
      options.alsoModels ?? Object.keys(config.models).filter((m) => m !== model && m in DEMO_DATASETS);
    for (const other of alsoModels) {
      t = Date.now();
      const run = await trainAndDeploy(ctx, other, Math.min(options.rows, 4000));
      lap(`lifecycle:${other}`, t);
      others.push({
        model: other,
        trainer: config.models[other]?.training.image ?? '',
        status: run.final.status ?? 'UNKNOWN',
        error: run.final.error ?? null,
        version: run.version,
        metrics: run.evaluation?.metrics ?? null,
        reportedMetrics: run.evaluation?.reportedMetrics ?? null,
        gates: run.gates,
      });
    }

    // A sweep of the PyTorch model, once its first version serves staging.
    let sweep: DemoSweep | null = null;
    if (others.some((o) => o.model === SWEPT_MODEL && o.status === 'SUCCEEDED')) {
      t = Date.now();
      sweep = await demoSweep(ctx, SWEPT_MODEL);
      lap('sweep', t);
    }

    let manifest: DemoSummary['manifest'] = {
      url: `${api}models/${model}/${stage}`,
      status: 0,
      etag: null,
      notModified: false,
    };
    let drift: DriftSummary | null = null;
    let canary: DemoCanary | null = null;
    if (final.status === 'SUCCEEDED') {
      const res = await fetch(manifest.url);
      const body = clientManifestSchema.parse(await res.json());
      const etag = res.headers.get('etag');
      const again = await fetch(manifest.url, { headers: etag ? { 'if-none-match': etag } : {} });
      manifest = { url: manifest.url, status: res.status, etag, notModified: again.status === 304 };
      info(
        `▶ client manifest ${manifest.url}: ${res.status}, version ${body.version}, ETag ${etag}; revalidation ${again.status}`,
      );

      t = Date.now();
      const served = await servedReferenceModel(body.download, stack.dir);
      info(
        `▶ model downloaded through the manifest: ${body.download.url} (${body.download.size} bytes, sha256 checked)`,
      );
      const score = (row: Record<string, string | number | null | undefined>) => predictProba(served, row);
      const baselineKey = monitoringKey(model, 'baseline', `baseline-seed${options.seed + 1}.csv`);
      const batchKey = monitoringKey(model, 'batches', `${new Date().toISOString().slice(0, 10)}-live.csv`);
      await objects.put(
        { bucket, key: baselineKey },
        churnCsv({ rows: options.rows, seed: options.seed + 1, extraColumns: { latency: true, score } }),
        'text/csv',
      );
      await stack.notifications.idle();
      info(`▶ baseline uploaded → s3://${bucket}/${baselineKey} (profiled by the S3 event)`);
      await objects.put(
        { bucket, key: batchKey },
        churnCsv({
          rows: Math.round(options.rows / 4),
          seed: options.seed + 2,
          drift: {
            sessionsPerWeekScale: 0.6,
            daysSinceLoginShift: 6,
            platformMix: { ios: 0.15, android: 0.6, pc: 0.15, console: 0.1 },
            missingRate: 0.12,
            churnBaseShift: 0.8,
          },
          extraColumns: { latency: true, score },
        }),
        'text/csv',
      );
      await stack.notifications.idle();
      lap('monitoring', t);
      drift = driftSummarySchema.parse(await objects.getJson({ bucket, key: driftLatestKey(model) }));
      info(
        `▶ drift on ${batchKey.split('/').pop()}: overall ${drift.overallSeverity}, ${(drift.driftedShare * 100).toFixed(0)}% of features drifted`,
      );
      for (const f of drift.features) {
        info(
          `    ${f.name.padEnd(24)} ${f.method.padEnd(16)} ${f.score === null ? '   n/a' : f.score.toFixed(3).padStart(6)}  ${f.severity}`,
        );
      }
      const actions = drift.features.filter((f) => f.recommendation);
      if (actions.length) info('  what to do:');
      for (const f of actions) info(`    ${f.name}: ${f.recommendation}`);
      const perf = drift.performance;
      if (perf?.metrics) {
        const line = Object.entries(perf.metrics)
          .map(([k, v]) => {
            const delta = perf.change?.[k];
            return `${k} ${v.toFixed(3)}${delta === undefined ? '' : ` (${delta >= 0 ? '+' : ''}${delta.toFixed(3)} vs evaluation)`}`;
          })
          .join(', ');
        info(`  live performance on the batch's labels: ${line}`);
      }
      if (perf?.latency) {
        info(`  latency: p50 ${perf.latency.p50} ms, p95 ${perf.latency.p95} ms, p99 ${perf.latency.p99} ms`);
      }
      info(`  report: ${drift.reportUri}`);
      if (version && options.canary !== false) {
        t = Date.now();
        canary = await demoCanary(ctx, model, version, options.rows, score);
        lap('canary', t);
      }
    }
    sfn.destroy();
    return {
      execution,
      status: final.status ?? 'UNKNOWN',
      model,
      version,
      stage,
      metrics: evaluation?.metrics ?? null,
      gates,
      approvals,
      manifest,
      drift,
      others,
      canary,
      sweep,
      outbox: readOutbox(outboxDir).map((m) => m.file),
      timings,
      seconds: Math.round((Date.now() - started) / 100) / 10,
    };
  } finally {
    await stack.stop();
  }
}

/**
 * The reference model a client would download: the served model.tar.gz, unpacked, its model.json
 * loaded (the demo scores its live batch with it, as a game client would).
 */
/** The served model as a game client gets it: downloaded from the manifest's URL, its sha256 checked. */
async function servedReferenceModel(download: ClientManifest['download'], stateDir: string) {
  const work = await mkdtemp(join(stateDir, 'served-'));
  try {
    const res = await fetch(download.url);
    const bytes = Buffer.from(await res.arrayBuffer());
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (res.status !== 200 || sha256 !== download.sha256) {
      throw new Error(
        `download ${download.url} answered ${res.status} with sha256 ${sha256}, not ${download.sha256}`,
      );
    }
    await writeFile(join(work, 'model.tar.gz'), bytes);
    await unpackArchive(join(work, 'model.tar.gz'), join(work, 'model'));
    return loadModel(await readFile(join(work, 'model', 'model.json'), 'utf8'));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run the whole lifecycle locally on a generated dataset and print a summary')
    .option('-m, --model <name>', 'model from the config', 'churn')
    .option('--rows <n>', 'rows in the generated training set', '20000')
    .option('--seed <n>', 'seed of the generated data', '42')
    .option('--json', 'end with one JSON object on the last line')
    .option(
      '--only',
      'train only --model (not also the config’s other models: ltv with scikit-learn, segments with PyTorch)',
    )
    .action(
      async (
        opts: { model: string; rows: string; seed: string; json?: boolean; only?: boolean },
        cmd: Command,
      ) => {
        const g = globalOptions(cmd);
        const out = createOutput(Boolean(opts.json));
        const summary = await runDemo({
          configPath: g.config,
          dir: join(g.dir, 'demo'),
          model: opts.model,
          rows: Number(opts.rows),
          seed: Number(opts.seed),
          info: out.info,
          ...(opts.only ? { alsoModels: [] } : {}),
        });
        out.result(summary, () =>
          [
            '',
            `mlcycle demo: ${summary.status} in ${summary.seconds} s`,
            `  ${summary.model} ${summary.version} deployed to ${summary.stage}`,
            `  metrics: ${Object.entries(summary.metrics ?? {})
              .map(([k, v]) => `${k} ${v.toFixed(3)}`)
              .join(', ')}`,
            `  gates: ${(summary.gates?.results ?? []).map((r) => `${r.metric} ${r.operator} ${r.threshold}: ${r.passed ? 'pass' : 'FAIL'}`).join('; ')}`,
            `  drift: ${summary.drift?.overallSeverity ?? 'n/a'}`,
            `  canary: ${summary.canary ? `${summary.canary.canary ?? '?'} at 10 % on production, ${summary.canary.status} after ${summary.canary.batches} batch(es)${summary.canary.ended ? ` (${summary.canary.ended.kind})` : ''}` : 'n/a'}`,
            summary.sweep
              ? `  sweep: ${summary.sweep.model} ${summary.sweep.status}, ${summary.sweep.trials} trials, ${summary.sweep.stopped} stopped (${summary.sweep.stoppedWhileTraining} while training), best trial ${summary.sweep.best?.trial ?? '?'} ${summary.sweep.metric} ${summary.sweep.best?.value?.toFixed(3) ?? '?'} → ${summary.sweep.best?.version ?? '?'}`
              : '  sweep: n/a',
            ...summary.others.map(
              (o) =>
                `  ${o.model} (${o.trainer}): ${o.status} ${o.version ?? ''} measured ${Object.entries(
                  o.metrics ?? {},
                )
                  .map(([k, v]) => `${k} ${(v as number).toFixed(3)}`)
                  .join(', ')}${o.error ? ` (${o.error})` : ''}`,
            ),
            `  emails: ${summary.outbox.length} in the outbox`,
          ].join('\n'),
        );
        if (summary.status !== 'SUCCEEDED' || !summary.drift) process.exitCode = 1;
        if (summary.canary?.status !== 'aborted') process.exitCode = 1;
        if (summary.others.some((o) => o.status !== 'SUCCEEDED')) process.exitCode = 1;
        if (summary.sweep && summary.sweep.status !== 'SUCCEEDED') process.exitCode = 1;
      },
    );
}

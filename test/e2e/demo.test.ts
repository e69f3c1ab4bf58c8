import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runDemo } from '../../bin/cli/demo.js';
import { DEFAULT_CONFIG, errorLines, runCli } from '../support/cli.js';

/** `npm run demo`, end to end, on the repository's own config and a temporary state folder. */
describe('the demo', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlcycle-demo-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let summary: Awaited<ReturnType<typeof runDemo>> | undefined;

  it('trains, gates, is approved through the emailed link, deploys, and reports drift; then trains scikit-learn and PyTorch models the same way', async () => {
    const lines: string[] = [];
    summary = await runDemo({
      configPath: 'mlcycle.config.yaml',
      dir,
      model: 'churn',
      rows: 8000,
      seed: 42,
      info: (l) => lines.push(l),
    });
    expect(summary.status).toBe('SUCCEEDED');
    expect(summary.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(summary.stage).toBe('staging');
    expect(summary.metrics?.auc).toBeGreaterThan(0.75);
    expect(summary.gates?.passed).toBe(true);
    expect(summary.approvals).toHaveLength(1);
    expect(summary.approvals[0]).toMatchObject({ pageStatus: 200, postStatus: 200 });
    expect(summary.manifest).toMatchObject({ status: 200, notModified: true });
    expect(summary.outbox.some((f) => f.endsWith('.eml'))).toBe(true);
    // the generated batch shifts sessions, login recency, platform mix and churn: drift must see it
    expect(['high', 'critical']).toContain(summary.drift?.overallSeverity);
    const drifted = new Set(summary.drift?.features.filter((f) => f.severity !== 'none').map((f) => f.name));
    expect(drifted.has('days_since_last_login')).toBe(true);
    expect(drifted.has('platform')).toBe(true);
    expect(drifted.has('region')).toBe(false);
    expect(lines.some((l) => l.includes('Train'))).toBe(true);
    // Two more frameworks through the same lifecycle, measured by the platform on their holdout.
    const byModel = Object.fromEntries(summary.others.map((o) => [o.model, o]));
    expect(byModel.ltv).toMatchObject({
      trainer: 'containers/sklearn-ltv',
      status: 'SUCCEEDED',
      error: null,
    });
    expect(byModel.ltv?.metrics?.r2).toBeGreaterThan(0.3);
    expect(byModel.ltv?.metrics?.auc).toBeUndefined();
    expect(byModel.ltv?.gates?.results.map((r) => r.metric)).toEqual(['r2', 'mae']);
    expect(byModel.segments).toMatchObject({
      trainer: 'containers/torch-segment',
      status: 'SUCCEEDED',
      error: null,
    });
    expect(byModel.segments?.metrics?.accuracy).toBeGreaterThan(0.5);
    expect(byModel.segments?.metrics?.macroF1).toBeGreaterThan(0);
    // The canary: the served version promoted to production (its quorum through the links), a
    // retrain at 10 % next to it, and the guardrail on errors aborting it without a person.
    expect(summary.canary).toMatchObject({
      control: summary.version,
      status: 'aborted',
      ended: { kind: 'auto-abort', actor: 'mlcycle-rollout-guard' },
    });
    expect(summary.canary?.canary).not.toBe(summary.version);
    expect(summary.canary?.batches).toBeLessThanOrEqual(8);
    expect(summary.canary?.ended?.reason).toMatch(
      /canary: error rose by .* more than \+0\.0100 with significance/,
    );
    expect(summary.canary?.alert).toContain(
      `rollout ${summary.canary?.rolloutId} of churn production aborted automatically`,
    );
    // The sweep of the PyTorch model: every trial ended stopped or measured, the best deployed
    // as the next version through the same gates and emailed approval.
    expect(summary.sweep).toMatchObject({
      model: 'segments',
      status: 'SUCCEEDED',
      trials: 6,
      metric: 'accuracy',
    });
    expect(summary.sweep?.best?.version).toBe('1.1.0');
    expect(summary.sweep?.best?.value).toBeGreaterThan(0.5);
    expect(summary.sweep?.stoppedWhileTraining).toBeLessThanOrEqual(summary.sweep?.stopped ?? 0);
    expect(summary.sweep?.stopped).toBeLessThan(6);
    expect(lines.some((l) => l.startsWith('▶ sweep: segments'))).toBe(true);
  }, 420_000); // three trainings (Node, scikit-learn, PyTorch), a retrain and a canary on a 2-core CI machine

  it('runs list, show, logs and compare (the CLI in child processes) see the runs the demo made', async () => {
    const cli = (...args: string[]) => runCli(dir, args, { config: DEFAULT_CONFIG });
    const listed = await cli('runs', 'list', '--json');
    expect(listed.code, listed.stderr).toBe(0);
    const listedRuns = JSON.parse(listed.stdout) as {
      model: string;
      runId: string;
      status: string;
      version: string | null;
      datasetSha256: string | null;
      metrics: Record<string, number>;
      parameters: Record<string, unknown>;
      durationSeconds: number | null;
      sweep: { id: string; trial: number; best: boolean; stopped: string | null } | null;
    }[];
    // The sweep's six trials are runs too, each saying which trial of which sweep it was.
    const trials = listedRuns.filter((r) => r.sweep);
    expect(trials.map((r) => r.sweep?.trial).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(new Set(trials.map((r) => r.sweep?.id))).toEqual(new Set([summary?.sweep?.id]));
    expect(trials.filter((r) => r.sweep?.best).map((r) => r.version)).toEqual(['1.1.0']);
    for (const r of trials.filter((x) => x.status === 'stopped'))
      expect(r.sweep?.stopped).toMatch(/ASHA rung/);
    const runs = listedRuns.filter((r) => !r.sweep);
    // churn twice: the demo's first run and the retrain its canary serves
    expect(runs.map((r) => r.model).sort()).toEqual(['churn', 'churn', 'ltv', 'segments']);
    for (const r of runs) {
      expect(r.version, r.model).toMatch(/^\d+\.\d+\.\d+$/);
      expect(r.datasetSha256, r.model).toMatch(/^[0-9a-f]{64}$/);
      expect(r.durationSeconds, r.model).toBeGreaterThan(0);
    }
    const segments = runs.find((r) => r.model === 'segments');
    const shown = await cli('runs', 'show', segments?.runId ?? '', '--json');
    expect(shown.code, shown.stderr).toBe(0);
    const detail = JSON.parse(shown.stdout) as {
      epochs: Record<string, number>[];
      metrics: Record<string, number>;
      logs: string;
    };
    // The PyTorch trainer's per-epoch lines, as many as the epochs it was given.
    expect(detail.epochs).toHaveLength(Number(segments?.parameters.epochs));
    expect(detail.epochs[0]).toHaveProperty('validationLoss');
    expect(detail.metrics.macroF1).toBeGreaterThan(0);
    expect(detail.logs).toMatch(/\.log$/);
    // What the scikit-learn trainer printed, read back through the run (its job's log).
    const ltv = runs.find((r) => r.model === 'ltv');
    const logged = await cli('runs', 'logs', ltv?.runId ?? '');
    expect(logged.code, logged.stderr).toBe(0);
    expect(logged.stdout).toMatch(/"event": "done".*"validationRmse"/);
    const churn = runs.find((r) => r.model === 'churn');
    const compared = await cli('runs', 'compare', churn?.runId ?? '', segments?.runId ?? '', '--json');
    expect(compared.code, compared.stderr).toBe(0);
    const { rows } = JSON.parse(compared.stdout) as {
      rows: { section: string; name: string; differs: boolean }[];
    };
    expect(rows.find((r) => r.name === 'model')?.differs).toBe(true);
    expect(rows.find((r) => r.name === 'seed')).toMatchObject({ section: 'parameter', differs: false });
    // Comparing one run with nothing, or a run that does not exist: a clear line, a non-zero exit.
    const one = await cli('runs', 'compare', churn?.runId ?? '');
    expect(one.code).not.toBe(0);
    expect(errorLines(one)).toEqual([
      expect.stringContaining('runs compare needs at least two runs or versions'),
    ]);
    const missing = await cli('runs', 'show', '20200101T000000Z-000000');
    expect(missing.code).not.toBe(0);
    expect(errorLines(missing)).toEqual([
      expect.stringContaining('no run 20200101T000000Z-000000 in any model'),
    ]);
  }, 180_000);
  it('each succeeded execution ran retention for its model (trigger deploy), and status shows what the demo deployed', async () => {
    const cli = (...args: string[]) => runCli(dir, args, { config: DEFAULT_CONFIG });
    const history = await cli('archive', 'history', '--model', 'churn', '--json');
    expect(history.code, history.stderr).toBe(0);
    const records = JSON.parse(history.stdout) as { model: string; trigger: string; actor: string }[];
    expect(records.length).toBeGreaterThan(0);
    for (const r of records)
      expect(r).toMatchObject({ model: 'churn', trigger: 'deploy', actor: 'mlcycle-cleanup' });
    const status = await cli('status', 'churn', '--json');
    expect(status.code, status.stderr).toBe(0);
    const s = JSON.parse(status.stdout) as {
      stages: { stage: string; serving: { version: string } | null }[];
      lastRun: { status: string } | null;
      lastCleanup: { trigger: string } | null;
      drift: { severity: string } | null;
    };
    // the retrain serves staging; production still serves the control its canary was aborted for
    expect(s.stages.find((x) => x.stage === 'staging')?.serving?.version).toBe(summary?.canary?.canary);
    expect(s.stages.find((x) => x.stage === 'production')?.serving?.version).toBe(summary?.version);
    expect(s.lastRun?.status).toBe('succeeded');
    expect(s.lastCleanup?.trigger).toBe('deploy');
    // the latest batch checked is the canary's last day: the same population as the baseline
    expect(['none', 'low', 'medium']).toContain(s.drift?.severity);
  });
});

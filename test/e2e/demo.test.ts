import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runDemo } from '../../bin/cli/demo.js';

/** `npm run demo`, end to end, on the repository's own config and a temporary state folder. */
describe('the demo', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlcycle-demo-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('trains, gates, is approved through the emailed link, deploys, and reports drift; then trains scikit-learn and PyTorch models the same way', async () => {
    const lines: string[] = [];
    const summary = await runDemo({
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
  }, 300_000); // three trainings (Node, scikit-learn, PyTorch) on a 2-core CI machine
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runDemo } from '../../bin/cli/demo.js';

/** `npm run demo`, end to end, on the repository's own config and a temporary state folder. */
describe('the demo', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlcycle-demo-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('trains, gates, is approved through the emailed link, deploys, and reports drift', async () => {
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
  });
});

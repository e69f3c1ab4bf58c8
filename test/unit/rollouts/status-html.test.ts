import { describe, expect, it } from 'vitest';
import { renderRolloutStatus, variantMetrics } from '../../../lambdas/domain/rollouts/status-html.js';
import { SAME, statusAfter } from '../../support/rollout-evidence.js';

describe('rollout status page', () => {
  it('a canary that errs five times as often is rolled back, and the page says why with the interval', () => {
    const view = statusAfter({ ...SAME, errorRate: 0.05 }, 3);
    expect(view.decision.action).toBe('rollback');
    const html = renderRolloutStatus(view);
    expect(html).toContain('Decision: roll back');
    const breach = view.decision.reasons.find((r) => r.code === 'guardrail-breach');
    expect(breach?.message).toContain('error rose by');
    expect(html).toContain(breach?.message.replace(/</g, '&lt;').replace(/>/g, '&gt;') ?? 'missing');
    expect(html).toMatch(/<tr class="bad fail"><td>canary<\/td><td>error<\/td>/);
    expect(html).not.toMatch(/<(script|link|img)\b/i);
  });

  it('shows every variant metric with a 95 % interval that holds the value, and the SRM check', () => {
    const view = statusAfter(SAME, 1);
    const metrics = variantMetrics(view.evidence, ['canary', 'control']);
    expect(new Set(metrics.map((m) => m.metric))).toEqual(new Set(['converted', 'correct', 'error']));
    for (const m of metrics) {
      expect(m.lower).toBeLessThan(m.value);
      expect(m.upper).toBeGreaterThan(m.value);
    }
    const html = renderRolloutStatus(view);
    expect(html).toContain('Sample-ratio check');
    expect(html).toContain('consistent with the weights');
    expect(html).toContain('<figcaption>converted (rate, 95 % interval)</figcaption>');
  });

  it('escapes what came from data (a rollout id, a batch key, a note)', () => {
    const view = {
      ...statusAfter(SAME, 1),
      lastBatchKey: 'monitoring/churn/batches/<img src=x>.csv',
      notes: ['"<b>"'],
    };
    const html = renderRolloutStatus(view);
    expect(html).not.toContain('<img src=x>');
    expect(html).toContain('&lt;img src=x&gt;');
    expect(html).toContain('&quot;&lt;b&gt;&quot;');
  });
});

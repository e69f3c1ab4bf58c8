import { describe, expect, it } from 'vitest';
import { sweepSection } from '../../../lambdas/domain/approval/sweep-section.js';

describe('sweepSection (approval page)', () => {
  const html = sweepSection({
    id: 'churn-staging-sweep-1',
    metric: 'auc',
    direction: 'max',
    trials: [
      {
        trial: 0,
        runId: 'r0',
        status: 'evaluated',
        parameters: { learningRate: 0.0123456 },
        value: 0.81,
        reason: '',
        chosen: false,
      },
      {
        trial: 1,
        runId: 'r1',
        status: 'registered',
        parameters: { learningRate: 0.2 },
        value: 0.84,
        reason: '',
        chosen: true,
      },
      {
        trial: 2,
        runId: 'r2',
        status: 'stopped',
        parameters: { schedule: '<script>' },
        value: null,
        reason: 'ASHA rung 0 (epoch 1): trainLoss 0.9 <is not> in the top 1',
        chosen: false,
      },
    ],
  });

  it('shows each trial with its parameters, measured value, status and why, the chosen one marked', () => {
    expect(html).toContain(
      'Best of 3 trial(s) of sweep <code>churn-staging-sweep-1</code> by auc (higher is better)',
    );
    expect(html).toContain(
      '<tr class="pass"><td>1 <span class="badge">chosen</span></td><td>learningRate=0.2</td><td>0.8400</td>',
    );
    expect(html).toContain('learningRate=0.01235');
    expect(html).toContain('<td>—</td><td>stopped</td>');
  });

  it('escapes what trainers and users wrote', () => {
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;');
    expect(html).toContain('&lt;is not&gt;');
  });
});

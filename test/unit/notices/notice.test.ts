import { describe, expect, it } from 'vitest';
import { rolloutEndedNotice } from '../../../lambdas/domain/notices/notice.js';

const base = {
  model: 'churn',
  stage: 'production',
  rolloutId: 'churn-production-12',
  canaryVersion: '1.4.0',
  controlVersion: '1.3.0',
  actor: 'mlcycle-rollout-guard',
  reason: 'error rate +1.2 points [0.6, 1.8], p = 0.001 > guardrail +0.5',
};
const links = {
  status: 'https://api.example/status/churn',
  manifest: 'https://cdn.example/models/churn/production',
};

describe('rollout notices', () => {
  it('an automatic abort is a warning naming the guardrail, once per rollout', () => {
    const n = rolloutEndedNotice({ ...base, kind: 'auto-abort' }, links);
    expect(n).toMatchObject({
      id: 'rollout-ended:churn:churn-production-12',
      level: 'warning',
      kind: 'rollout-ended',
    });
    expect(n.subject).toBe('[mlcycle] churn production rollout of 1.4.0 aborted');
    expect(n.text).toContain('aborted by its guardrails: 1.3.0 serves every player again');
    expect(n.text).toContain(`Reason: ${base.reason}`);
    expect(n.text).toContain(`Client manifest: ${links.manifest}`);
  });

  it('a promotion is info; an abort by a person names them', () => {
    expect(
      rolloutEndedNotice({ ...base, kind: 'promoted', actor: 'alice@studio.example' }, links),
    ).toMatchObject({
      level: 'info',
      subject: '[mlcycle] churn production rollout of 1.4.0 promoted',
    });
    expect(rolloutEndedNotice({ ...base, kind: 'abort', actor: 'bob@studio.example' }, links).text).toContain(
      'aborted by bob@studio.example',
    );
  });
});

import { parse } from 'csv-parse/sync';
import { type RolloutPolicy, rolloutPolicySchema } from '../../lambdas/contracts/rollout-evidence.js';
import { type BatchColumns, BatchEvidenceAccumulator } from '../../lambdas/domain/rollouts/batch-evidence.js';
import { decide } from '../../lambdas/domain/rollouts/decide.js';
import { mergeEvidence } from '../../lambdas/domain/rollouts/evidence.js';
import type { RolloutStatusView } from '../../lambdas/domain/rollouts/status-html.js';
import { type RolloutArm, rolloutBatchCsv } from '../../local/data/rollout-batch.js';

/** A 10 % canary of churn 1.1.0 against 1.0.0, and the columns its batches carry. */
export const CANARY_VARIANTS = [
  { name: 'canary', version: '1.1.0', weight: 1000 },
  { name: 'control', version: '1.0.0', weight: 9000 },
];
export const BATCH_COLUMNS: BatchColumns = {
  variant: 'variant',
  player: 'player_id',
  latencyMs: 'latency_ms',
  error: 'error',
  outcomes: { converted: 'rate' },
  label: 'churned',
  prediction: 'prediction',
};
export const CANARY_POLICY: RolloutPolicy = rolloutPolicySchema.parse({
  primary: { metric: 'converted', type: 'rate', minimumEffect: 0.02 },
  guardrails: [
    { kind: 'rate-increase', rate: 'error', maxIncrease: 0.01 },
    { kind: 'latency-p95', maxMs: 120 },
  ],
});
export const SAME: RolloutArm = { errorRate: 0.01, latencyMedianMs: 40, conversion: 0.1 };

/** A served model's score: churn risk rises with days since the last login. */
export const simpleScore = (row: Readonly<Record<string, unknown>>) =>
  1 / (1 + Math.exp(-(Number(row.days_since_last_login) - 5) / 3));

/** The status view after `batches` seeded batches where the canary behaves as `canary`. */
export function statusAfter(canary: RolloutArm, batches: number, rows = 4000): RolloutStatusView {
  let evidence = { steps: {} };
  let memory = {};
  let decision: ReturnType<typeof decide> | undefined;
  for (let b = 0; b < batches; b++) {
    const csv = rolloutBatchCsv({
      rows,
      seed: 100 + b,
      rolloutId: 'churn-production-r1',
      variants: CANARY_VARIANTS,
      arms: { canary, control: SAME },
      score: simpleScore,
    });
    const acc = new BatchEvidenceAccumulator({
      columns: BATCH_COLUMNS,
      variants: CANARY_VARIANTS,
      step: '0',
      task: 'binary',
    });
    for (const row of parse(csv, { columns: true }) as Record<string, string>[]) acc.add(row);
    evidence = mergeEvidence(evidence, acc.result().evidence);
    decision = decide({ evidence, steps: { '0': CANARY_VARIANTS }, policy: CANARY_POLICY, memory });
    memory = decision.memory;
  }
  if (!decision) throw new Error('no batch');
  return {
    model: 'churn',
    stage: 'production',
    rolloutId: 'churn-production-r1',
    state: decision.action === 'rollback' ? 'aborted' : 'active',
    variants: CANARY_VARIANTS,
    evidence,
    decision,
    batches,
    checkedAt: '2026-12-01T12:00:00.000Z',
    lastBatchKey: `monitoring/churn/batches/day-${batches}.csv`,
  };
}

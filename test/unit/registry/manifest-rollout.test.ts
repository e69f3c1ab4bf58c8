import { describe, expect, it } from 'vitest';
import { mlcycleAssign } from '../../../clients/typescript/mlcycle-assign.js';
import { clientManifestSchema, manifestRolloutSchema } from '../../../lambdas/contracts/manifest.js';
import { percentToBasisPoints, pipelineRequestSchema } from '../../../lambdas/contracts/pipeline.js';
import { buildRolloutBlock } from '../../../lambdas/domain/registry/manifest.js';
import { canaryWeights } from '../../../lambdas/domain/rollouts/ramp.js';

const download = (c: string) => ({
  url: `https://cdn.test/downloads/churn/${c.repeat(64)}/model.json`,
  sha256: c.repeat(64),
  size: 10,
});
const downloads = new Map([
  ['1.1.0', download('b')],
  ['1.0.0', download('a')],
]);
const variants = canaryWeights(
  { name: 'canary', version: '1.1.0' },
  { name: 'control', version: '1.0.0' },
  500,
);

describe("the manifest's rollout block", () => {
  it('lists canary then control with their downloads; the reference client assigns players by its weights', () => {
    const block = manifestRolloutSchema.parse(buildRolloutBlock('churn.production.1', variants, downloads));
    expect(block.variants.map((v) => [v.name, v.version, v.weight, v.download.sha256[0]])).toEqual([
      ['canary', '1.1.0', 500, 'b'],
      ['control', '1.0.0', 9500, 'a'],
    ]);
    const picks = Array.from(
      { length: 10_000 },
      (_, i) => mlcycleAssign(block.rolloutId, `player-${i}`, block.variants).version,
    );
    const canary = picks.filter((v) => v === '1.1.0').length;
    // Binomial(10000, 0.05): sd ≈ 22; 6 sd either side.
    expect(Math.abs(canary - 500)).toBeLessThan(132);
  });

  it('refuses weights that do not sum to 10000, repeated names, a rollout id with ":", or a missing download', () => {
    const block = buildRolloutBlock('churn.production.1', variants, downloads);
    const bad = (over: object) => manifestRolloutSchema.safeParse({ ...block, ...over }).success;
    expect(bad({ variants: block.variants.map((v) => ({ ...v, weight: 100 })) })).toBe(false);
    expect(bad({ variants: block.variants.map((v) => ({ ...v, name: 'x' })) })).toBe(false);
    expect(bad({ rolloutId: 'churn:1' })).toBe(false);
    expect(() => buildRolloutBlock('r', variants, new Map([['1.0.0', download('a')]]))).toThrow(
      /no served copy of 1\.1\.0 for variant canary/,
    );
  });

  it('is optional in the manifest (old clients read version and download) and keeps no extra keys', () => {
    const base = {
      schema: 'mlcycle.manifest/v2',
      model: 'churn',
      stage: 'production',
      version: '1.0.0',
      download: download('a'),
      metrics: {},
      promotedAt: '2030-01-01T00:00:00.000Z',
      ledgerSeq: 1,
      previousVersion: null,
      action: 'promote',
    };
    expect(clientManifestSchema.parse(base).rollout).toBeUndefined();
    const rollout = {
      ...buildRolloutBlock('churn.production.1', variants, downloads),
      approvedBy: 'x@studio.test',
    };
    const parsed = clientManifestSchema.parse({ ...base, rollout });
    expect(JSON.stringify(parsed)).not.toContain('@');
  });
});

describe('rollout in a promotion request', () => {
  it('takes a share in (0, 100] with at most 2 decimals, as basis points', () => {
    const ok = (percent: number) =>
      pipelineRequestSchema.safeParse({
        model: 'churn',
        stage: 'production',
        promote: '1.1.0',
        rollout: { percent },
      }).success;
    for (const p of [0.01, 5, 12.5, 99.99, 100]) expect(ok(p), String(p)).toBe(true);
    for (const p of [0, -1, 100.01, 5.555, Number.NaN]) expect(ok(p), String(p)).toBe(false);
    expect(percentToBasisPoints(12.34)).toBe(1234);
    expect(percentToBasisPoints(0.29)).toBe(29);
    // A caller may not slip weights or a rollout id in.
    expect(
      pipelineRequestSchema.safeParse({
        model: 'churn',
        stage: 'production',
        promote: '1.1.0',
        rollout: { percent: 5, rolloutId: 'mine' },
      }).success,
    ).toBe(false);
  });
});

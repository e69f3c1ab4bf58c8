import { describe, expect, it } from 'vitest';
import { monitoringSchema } from '../../../lambdas/contracts/config-operations.js';

describe('monitoring limits in the config', () => {
  it('defaults: 2,000 columns, 5 % of rows skipped', () => {
    const c = monitoringSchema.parse({});
    expect(c.maxColumns).toBe(2_000);
    expect(c.maxSkippedRowShare).toBe(0.05);
  });

  it('refuses a cap that is not a positive integer, or a share outside 0–1, naming the key', () => {
    for (const bad of [
      { maxColumns: 0 },
      { maxColumns: 1.5 },
      { maxColumns: 1e6 },
      { maxSkippedRowShare: 1.5 },
    ]) {
      const r = monitoringSchema.safeParse(bad);
      expect(r.success).toBe(false);
      expect(r.error?.issues[0]?.path).toEqual(Object.keys(bad));
    }
  });

  it("the approval page's recent drift: 7 days, at most 200 batches by default; a bad window names its key", () => {
    expect(monitoringSchema.parse({}).approvalPage).toEqual({ recentDays: 7, recentBatches: 200 });
    expect(monitoringSchema.parse({ approvalPage: { recentDays: 2 } }).approvalPage).toEqual({
      recentDays: 2,
      recentBatches: 200,
    });
    for (const bad of [{ recentDays: 0 }, { recentDays: 365 }, { recentBatches: 2.5 }, { recentWeeks: 1 }]) {
      const r = monitoringSchema.safeParse({ approvalPage: bad });
      expect(r.success).toBe(false);
      expect(r.error?.issues[0]?.path.slice(0, 1)).toEqual(['approvalPage']);
    }
  });
});

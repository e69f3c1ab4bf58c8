import { beforeAll, describe, expect, it } from 'vitest';
import {
  type ApprovalWorld,
  approvePayload,
  getEvent,
  linkFor,
  registerVersion,
  requestFor,
  useApprovalWorld,
} from '../adapters/approval/fixtures.js';
import { CANARY_VARIANTS, SAME, statusAfter } from '../support/rollout-evidence.js';

/** The visible text of a page. */
const text = (html: string | undefined) =>
  (html ?? '')
    .replace(/<style>[\s\S]*?<\/style>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');

/**
 * A promotion a rollout asked for: its approval page shows the rollout's evidence (the decision
 * and its reasons, per-variant metrics with intervals, the tests, the sample-ratio check) from
 * the registry's record; a promotion of any other version shows none.
 */
describe('the approval page of a rollout-requested promotion shows the evidence', () => {
  const suite = useApprovalWorld();
  let w: ApprovalWorld;
  let canary: string;
  let links: Map<string, URL>;
  const better = statusAfter({ ...SAME, conversion: 0.2 }, 4);

  beforeAll(async () => {
    w = suite().world;
    const control = await registerVersion(w);
    const { seq } = await w.registry.stages.promote({
      model: 'churn',
      stage: 'production',
      version: control,
      actor: 'ana@studio.test',
      reason: 'first',
      action: 'promote',
    });
    canary = await registerVersion(w);
    const variants = CANARY_VARIANTS.map((v, i) => ({ ...v, version: i === 0 ? canary : control }));
    const { record } = await w.registry.rollouts.start({
      model: 'churn',
      stage: 'production',
      canaryVersion: canary,
      controlVersion: control,
      ledgerSeq: seq,
      variants,
      actor: 'ana@studio.test',
      reason: 'canary',
      approval: null,
    });
    const { memory: _m, ...decision } = better.decision;
    await w.registry.rollouts.recordEvidence('churn', 'production', record.revision, {
      batchId: 'batch1',
      evidence: better.evidence,
      memory: better.decision.memory,
      lastDecision: decision,
    });
    const sent = w.mails.length;
    await w.requestApproval(approvePayload(canary));
    links = new Map();
    for (const m of w.mails.slice(sent)) {
      const href = /https:\/\/\S+\/approvals\/\S+/.exec(m.text)?.[0];
      if (href && m.to[0]) links.set(m.to[0], new URL(href));
    }
  });

  it('shows the decision, its reasons, per-variant intervals, the tests and the SRM check', async () => {
    expect(better.decision.action).toBe('promote');
    const res = await w.http(getEvent(linkFor(links, 'a@studio.test')));
    expect(res.statusCode).toBe(200);
    const page = text(res.body);
    expect(page).toContain('Rollout churn.production.1: the evidence behind this request');
    expect(page).toContain('Decision: promote (canary)');
    const reason = better.decision.reasons.find((r) => r.code === 'primary-better')?.message ?? 'missing';
    expect(page).toContain(reason);
    expect(page).toMatch(/converted \(rate, 95 % interval\)/);
    expect(page).toContain('Sample-ratio check');
    expect(page).toMatch(/χ² = [\d.]+, df 1, p = [\d.e-]+ — consistent with the weights/);
    expect(res.body).toMatch(/<svg [^>]*aria-label="converted per variant"/);
    expect(res.body).not.toMatch(/<script\b/i);
  });

  it('a promotion of another version shows no rollout evidence', async () => {
    const other = await requestFor(w);
    const res = await w.http(getEvent(linkFor(other.links, 'a@studio.test')));
    expect(res.statusCode).toBe(200);
    expect(text(res.body)).not.toContain('the evidence behind this request');
  });
});

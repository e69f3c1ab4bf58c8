import { beforeAll, describe, expect, it } from 'vitest';
import { publishManifest } from '../../../lambdas/adapters/registry/manifest.js';
import { manifestKey } from '../../../lambdas/contracts/manifest.js';
import { buildClientManifest } from '../../../lambdas/domain/registry/manifest.js';
import {
  type ApprovalWorld,
  getEvent,
  linkFor,
  registerVersion,
  requestFor,
  useApprovalWorld,
} from './fixtures.js';

/**
 * The approval page compares the candidate with what serves the stage, and says who promoted
 * it. That comes from the registry (stage pointer + ledger), not from the public client
 * manifest — which names nobody.
 */
describe('the approval request’s view of the serving version (DynamoDB Local + s3rver)', () => {
  const suite = useApprovalWorld();
  let w: ApprovalWorld;

  beforeAll(async () => {
    w = suite().world;
  });

  it('shows who promoted the serving version and when, while the served manifest has no address', async () => {
    const serving = await registerVersion(w);
    const entry = await w.registry.stages.promote({
      model: 'churn',
      stage: 'production',
      version: serving,
      actor: 'ml-lead@studio.test',
      reason: 'staging looks healthy',
      action: 'promote',
      evidence: { approvals: [{ approver: 'a@studio.test' }, { approver: 'b@studio.test' }] },
    });
    // Published as Deploy does.
    const record = await w.registry.versions.requireVersion('churn', serving);
    await publishManifest(
      w.objects,
      w.bucket,
      buildClientManifest(entry, record, {
        url: `https://cdn.test/downloads/${record.model}/${record.lineage.artifactSha256}/model.json`,
        sha256: record.lineage.artifactSha256,
        size: 1,
      }),
    );
    const published = await w.objects.getText({ bucket: w.bucket, key: manifestKey('churn', 'production') });
    expect(published).not.toContain('@');

    const { requestId, links } = await requestFor(w);
    expect((await w.store.require(requestId)).serving).toEqual({
      version: serving,
      metrics: record.metrics,
      promotedAt: entry.at,
      promotedBy: 'ml-lead@studio.test',
    });
    const page = await w.http(getEvent(linkFor(links, 'a@studio.test')));
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(`serving ${serving}`);
    expect(page.body).toContain(`Serving since ${entry.at}, promoted by ml-lead@studio.test.`);
  });
});

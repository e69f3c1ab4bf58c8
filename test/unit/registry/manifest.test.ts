import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientManifestSchema } from '../../../lambdas/contracts/manifest.js';
import { buildClientManifest } from '../../../lambdas/domain/registry/manifest.js';
import type { LedgerEntry, VersionRecord } from '../../../lambdas/domain/registry/types.js';

const version: VersionRecord = {
  model: 'churn',
  version: '1.2.0',
  status: 'ready',
  metrics: { auc: 0.81, f1: 0.6 },
  lineage: {
    parentVersion: '1.1.0',
    datasetUri: 's3://bucket/datasets/churn/churn.csv',
    datasetSha256: 'd'.repeat(64),
    codeVersion: 'abc123',
    runId: '20300301T110000Z-abc',
    hyperparameters: { epochs: 3 },
    framework: 'mlcycle-logreg@1.0.0',
    artifactUri: 's3://bucket/runs/churn/20300301T110000Z-abc/model.json',
    artifactSha256: 'a'.repeat(64),
    author: 'data.scientist@studio.test',
  },
  createdAt: '2030-03-01T11:00:00.000Z',
  statusHistory: [
    { from: null, to: 'validating', at: '2030-03-01T11:00:00.000Z', reason: 'x', actor: 'ds@studio.test' },
  ],
};

const entry = (over: Partial<LedgerEntry> = {}): LedgerEntry => ({
  model: 'churn',
  stage: 'production',
  seq: 4,
  action: 'promote',
  fromVersion: '1.1.0',
  toVersion: '1.2.0',
  actor: 'data.scientist@studio.test',
  reason: 'better recall, ask ml-lead@studio.test',
  at: '2030-03-01T12:00:00.000Z',
  evidence: {
    approvals: [{ approver: 'a@studio.test' }, { approver: 'b@studio.test' }],
    requestId: 'apr-x',
  },
  ...over,
});

const download = {
  url: `https://d111.cloudfront.net/downloads/churn/${'a'.repeat(64)}/model.json`,
  sha256: 'a'.repeat(64),
  size: 2048,
};

describe('the client manifest (built once, for promotions and rollbacks)', () => {
  it('says what serves, where to get it and its place in the ledger', () => {
    expect(buildClientManifest(entry(), version, download)).toEqual({
      schema: 'mlcycle.manifest/v2',
      model: 'churn',
      stage: 'production',
      version: '1.2.0',
      download,
      metrics: { auc: 0.81, f1: 0.6 },
      promotedAt: '2030-03-01T12:00:00.000Z',
      ledgerSeq: 4,
      previousVersion: '1.1.0',
      action: 'promote',
    });
    expect(buildClientManifest(entry({ action: 'rollback' }), version, download).action).toBe('rollback');
  });

  it('is public: whoever promoted, approved or wrote the reason, no address and no reason is in it', () => {
    const email = fc
      .tuple(fc.stringMatching(/^[a-z.]{1,12}$/), fc.domain())
      .map(([user, domain]) => `${user}@${domain}`);
    fc.assert(
      fc.property(email, fc.array(email, { maxLength: 4 }), fc.string(), (actor, approvers, reason) => {
        const m = buildClientManifest(
          entry({
            actor,
            reason: `why: ${reason}`,
            evidence: { approvals: approvers.map((approver) => ({ approver })) },
          }),
          version,
          download,
        );
        const published = JSON.stringify(clientManifestSchema.parse(m));
        expect(published).not.toContain('@');
        expect(published).not.toContain('why: ');
        // No bucket layout: no s3:// URI, no bucket name, no key outside downloads/.
        expect(published).not.toContain('s3://');
        expect(published).not.toContain('bucket');
        expect(published).not.toContain('runs/');
      }),
    );
  });

  it('a manifest written before this change is read without the promoter', () => {
    const old = { ...buildClientManifest(entry(), version, download), promotedBy: 'x@studio.test' };
    expect(clientManifestSchema.parse(old)).not.toHaveProperty('promotedBy');
  });

  it('refuses a download whose sha256 is not the registry’s (no manifest points at other bytes)', () => {
    expect(() => buildClientManifest(entry(), version, { ...download, sha256: 'b'.repeat(64) })).toThrow(
      /has sha256 b{64}, not the registry's a{64}/,
    );
  });

  it('a v1 manifest (an s3:// URI) is not read as a v2 one', () => {
    const v1 = {
      ...buildClientManifest(entry(), version, download),
      schema: 'mlcycle.manifest/v1',
      artifact: { uri: version.lineage.artifactUri, sha256: 'a'.repeat(64) },
    };
    expect(clientManifestSchema.safeParse(v1).success).toBe(false);
  });

  it('refuses an entry that did not move the stage, or names another version', () => {
    expect(() => buildClientManifest(entry({ action: 'reject' }), version, download)).toThrow(
      /did not move the stage/,
    );
    expect(() => buildClientManifest(entry({ toVersion: '1.3.0' }), version, download)).toThrow(
      /not churn 1\.2\.0/,
    );
  });
});

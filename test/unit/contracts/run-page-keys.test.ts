import { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { pageUrl } from '../../../bin/cli/run-pages.js';
import type { CliContext } from '../../../bin/cli/types.js';
import {
  comparisonPageKey,
  parseRunPageKey,
  RUN_PAGE_PATTERNS,
  rolloutStatusBase,
  runPageKey,
  sweepPageKey,
} from '../../../lambdas/contracts/s3-layout.js';

/** Where pages are written, which keys the local gateway serves, and the URL the CLI prints. */
describe('run and comparison page keys and URLs', () => {
  it('a run page and a comparison page (named by what was compared, in order) under reports/<model>/', () => {
    expect(runPageKey('churn', '20301201T000000Z-aaaaaa')).toBe(
      'reports/churn/runs/20301201T000000Z-aaaaaa.html',
    );
    const ab = comparisonPageKey('churn', ['a', 'b']);
    expect(ab).toMatch(/^reports\/churn\/comparisons\/[0-9a-f]{16}\.html$/);
    expect(comparisonPageKey('churn', ['a', 'b'])).toBe(ab);
    expect(comparisonPageKey('churn', ['b', 'a'])).not.toBe(ab);
    // The operator writes these (the CLI renders them); rollout pages are the drift function's.
    expect(RUN_PAGE_PATTERNS).toEqual([
      'reports/*/runs/*.html',
      'reports/*/comparisons/*.html',
      'reports/*/sweeps/*.html',
    ]);
    expect(sweepPageKey('churn', 'churn-staging-sweep-20261201T000000Z-ab12')).toBe(
      'reports/churn/sweeps/churn-staging-sweep-20261201T000000Z-ab12.html',
    );
  });

  it('only page keys parse: not profiles, drift reports, other folders or path tricks', () => {
    expect(parseRunPageKey(runPageKey('churn', 'r1'))).toEqual({
      model: 'churn',
      kind: 'runs',
      file: 'r1.html',
    });
    // …and the rollout status pages the batch check writes, served the same way
    expect(parseRunPageKey(`${rolloutStatusBase('churn', 'churn.production.1')}.html`)).toEqual({
      model: 'churn',
      kind: 'rollouts',
      file: 'churn.production.1.html',
    });
    for (const key of [
      'reports/churn/profiles/baseline.json',
      'reports/churn/drift/latest.json',
      'reports/churn/runs/r1.json',
      'reports/churn/rollouts/churn.production.1.json',
      'reports/churn/runs/../profiles/x.html',
      'reports/churn/runs/.html',
      'runs/churn/r1/model.json',
      'reports/Churn/runs/r1.html',
    ]) {
      expect(parseRunPageKey(key), key).toBeUndefined();
    }
  });

  const page = { bucket: 'mlcycle-artifacts', key: 'reports/churn/runs/r1.html', uri: '' };

  it('locally the URL is the gateway’s, at the page key', async () => {
    const ctx = {
      where: { kind: 'local', dir: '.mlcycle', api: 'http://127.0.0.1:8787' },
    } as unknown as CliContext;
    await expect(pageUrl(ctx, page)).resolves.toBe('http://127.0.0.1:8787/reports/churn/runs/r1.html');
  });

  it('on AWS it is a presigned GET of the object, signed with the caller’s credentials, for 15 minutes', async () => {
    const s3 = new S3Client({
      region: 'eu-west-1',
      credentials: {
        accessKeyId: 'AKIDEXAMPLE',
        secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      },
    });
    const ctx = { where: { kind: 'aws', clientConfig: {} }, s3 } as unknown as CliContext;
    const url = new URL(await pageUrl(ctx, page));
    s3.destroy();
    expect(url.origin + url.pathname).toBe(
      'https://mlcycle-artifacts.s3.eu-west-1.amazonaws.com/reports/churn/runs/r1.html',
    );
    expect(url.searchParams.get('X-Amz-Expires')).toBe('900');
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(
      /^AKIDEXAMPLE\/\d{8}\/eu-west-1\/s3\/aws4_request$/,
    );
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
  });
});

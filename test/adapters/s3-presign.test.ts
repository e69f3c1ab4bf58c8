import { describe, expect, it } from 'vitest';
import { presignGetUrl } from '../../lambdas/adapters/s3-presign.js';

/**
 * The presigned GET URL is SigV4 query authentication exactly as S3 checks it: the example of
 * AWS's documentation ("Authenticating Requests: Using Query Parameters"), signature and all.
 */
describe('presignGetUrl', () => {
  const credentials = {
    accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  };

  it('reproduces the documented example URL (examplebucket/test.txt, 24 h)', async () => {
    const url = new URL(
      await presignGetUrl(
        { bucket: 'examplebucket', key: 'test.txt' },
        {
          region: 'us-east-1',
          credentials,
          expiresIn: 86_400,
          signingDate: new Date('2013-05-24T00:00:00Z'),
          host: 'examplebucket.s3.amazonaws.com',
        },
      ),
    );
    expect(url.origin + url.pathname).toBe('https://examplebucket.s3.amazonaws.com/test.txt');
    expect(url.searchParams.get('X-Amz-Credential')).toBe(
      'AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request',
    );
    expect(url.searchParams.get('X-Amz-Expires')).toBe('86400');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host');
    expect(url.searchParams.get('X-Amz-Signature')).toBe(
      'aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
    );
  });

  it('signs a page key for 15 minutes on the regional host; a bucket with dots goes path style', async () => {
    const options = {
      region: 'eu-west-1',
      credentials,
      expiresIn: 900,
      signingDate: new Date('2030-01-01T00:00:00Z'),
    };
    const page = new URL(
      await presignGetUrl({ bucket: 'mlcycle-artifacts', key: 'reports/churn/runs/r 1.html' }, options),
    );
    expect(page.host).toBe('mlcycle-artifacts.s3.eu-west-1.amazonaws.com');
    expect(page.pathname).toBe('/reports/churn/runs/r%201.html');
    expect(page.searchParams.get('X-Amz-Expires')).toBe('900');
    const dotted = new URL(await presignGetUrl({ bucket: 'a.b', key: 'reports/x.html' }, options));
    expect(dotted.host + dotted.pathname).toBe('s3.eu-west-1.amazonaws.com/a.b/reports/x.html');
  });
});

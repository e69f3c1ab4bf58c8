import { describe, expect, it } from 'vitest';
import { CloudFrontInvalidator } from '../../lambdas/adapters/cdn.js';

/** CreateInvalidation over CloudFront's REST API: what is sent, and how answers map to errors. */

const credentials = async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' });

function recorder(status: number, body: string) {
  const sent: { url: string; init: RequestInit }[] = [];
  const fetchFn = (async (url: URL | string, init?: RequestInit) => {
    sent.push({ url: String(url), init: init ?? {} });
    return new Response(body, { status });
  }) as typeof fetch;
  return { sent, fetchFn };
}

describe('CloudFrontInvalidator', () => {
  it('POSTs a SigV4-signed (us-east-1, cloudfront) invalidation of the paths, with the caller reference', async () => {
    const r = recorder(
      201,
      '<Invalidation><Id>I2J0I21PCUYOIK</Id><Status>InProgress</Status></Invalidation>',
    );
    const cdn = new CloudFrontInvalidator('E2QWRUHAPOMQZL', credentials, r.fetchFn);
    expect(await cdn.invalidate(['/models/churn/production'], 'churn/production#7')).toBe('I2J0I21PCUYOIK');
    expect(r.sent).toHaveLength(1);
    const [call] = r.sent;
    expect(call?.url).toBe(
      'https://cloudfront.amazonaws.com/2020-05-31/distribution/E2QWRUHAPOMQZL/invalidation',
    );
    expect(call?.init.method).toBe('POST');
    const headers = call?.init.headers as Record<string, string>;
    expect(headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/cloudfront\/aws4_request, SignedHeaders=.*host.*, Signature=[0-9a-f]{64}$/,
    );
    expect(String(call?.init.body)).toContain(
      '<Paths><Quantity>1</Quantity><Items><Path>/models/churn/production</Path></Items></Paths>',
    );
    expect(String(call?.init.body)).toContain('<CallerReference>churn/production#7</CallerReference>');
  });

  it('escapes what it puts in the XML', async () => {
    const r = recorder(201, '<Id>X</Id>');
    await new CloudFrontInvalidator('E1', credentials, r.fetchFn).invalidate(['/a&b<c>'], 'r"1');
    const body = String(r.sent[0]?.init.body);
    expect(body).toContain('<Path>/a&amp;b&lt;c&gt;</Path>');
    expect(body).toContain('<CallerReference>r&quot;1</CallerReference>');
  });

  it('maps throttling and server errors to TransientError, anything else to an error naming the answer', async () => {
    await expect(
      new CloudFrontInvalidator('E1', credentials, recorder(429, 'Throttling').fetchFn).invalidate(
        ['/x'],
        'r',
      ),
    ).rejects.toMatchObject({ name: 'TransientError' });
    await expect(
      new CloudFrontInvalidator(
        'E1',
        credentials,
        recorder(403, '<Code>AccessDenied</Code>').fetchFn,
      ).invalidate(['/x'], 'r'),
    ).rejects.toThrow(/CreateInvalidation on E1 answered 403: <Code>AccessDenied<\/Code>/);
  });

  it('refuses a distribution id that is not one (it becomes part of the URL)', () => {
    expect(() => new CloudFrontInvalidator('E1/../x', credentials)).toThrow(
      /"E1\/\.\.\/x" is not a CloudFront distribution id/,
    );
  });
});

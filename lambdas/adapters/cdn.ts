import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { TransientError } from '../domain/errors.js';

/** Tells the CDN that cached copies of some paths are stale. */
export interface CdnInvalidator {
  /** Starts an invalidation of the paths; its id. */
  invalidate(paths: readonly string[], callerReference: string): Promise<string>;
}

const ENDPOINT = 'https://cloudfront.amazonaws.com';
const API_VERSION = '2020-05-31';

const xmlEscape = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * CloudFront CreateInvalidation over its REST API, SigV4-signed with the function's credentials
 * (CloudFront is global: signed for us-east-1). The SDK has no CloudFront client among this
 * project's dependencies, and one signed POST is all a stage change needs.
 */
export class CloudFrontInvalidator implements CdnInvalidator {
  constructor(
    private readonly distributionId: string,
    private readonly credentials: AwsCredentialIdentityProvider,
    private readonly fetchFn: typeof fetch = fetch,
  ) {
    if (!/^[A-Z0-9]{1,32}$/.test(distributionId)) {
      throw new Error(`"${distributionId}" is not a CloudFront distribution id`);
    }
  }

  async invalidate(paths: readonly string[], callerReference: string): Promise<string> {
    const url = new URL(`${ENDPOINT}/${API_VERSION}/distribution/${this.distributionId}/invalidation`);
    const body =
      `<?xml version="1.0" encoding="UTF-8"?>` +
      `<InvalidationBatch xmlns="http://cloudfront.amazonaws.com/doc/${API_VERSION}/">` +
      `<Paths><Quantity>${paths.length}</Quantity><Items>${paths.map((p) => `<Path>${xmlEscape(p)}</Path>`).join('')}</Items></Paths>` +
      `<CallerReference>${xmlEscape(callerReference)}</CallerReference></InvalidationBatch>`;
    const signer = new SignatureV4({
      service: 'cloudfront',
      region: 'us-east-1',
      credentials: this.credentials,
      sha256: Hash.bind(null, 'sha256'),
    });
    const signed = await signer.sign({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      path: url.pathname,
      headers: { host: url.hostname, 'content-type': 'application/xml' },
      body,
    });
    const { host: _host, ...headers } = signed.headers as Record<string, string>;
    const res = await this.fetchFn(url, { method: 'POST', headers, body });
    const text = await res.text();
    if (res.status === 429 || res.status >= 500) {
      throw new TransientError(`CloudFront CreateInvalidation answered ${res.status}: ${text.slice(0, 200)}`);
    }
    if (res.status !== 201 && res.status !== 200) {
      throw new Error(
        `CloudFront CreateInvalidation on ${this.distributionId} answered ${res.status}: ${text.slice(0, 300)}`,
      );
    }
    return /<Id>([^<]+)<\/Id>/.exec(text)?.[1] ?? 'unknown';
  }
}

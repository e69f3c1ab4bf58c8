import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { S3Location } from './s3-objects.js';

export interface PresignOptions {
  readonly region: string;
  readonly credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Seconds the URL stays valid (SigV4 allows up to 7 days). */
  readonly expiresIn: number;
  /** For tests: the signing time. */
  readonly signingDate?: Date;
  /** The bucket's virtual host. @default `<bucket>.s3.<region>.amazonaws.com` */
  readonly host?: string;
}

/** S3's encoding of a key in a path: every byte but unreserved characters and `/`. */
const encodeKey = (key: string) =>
  key
    .split('/')
    .map((part) =>
      encodeURIComponent(part).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    )
    .join('/');

/**
 * A presigned GET URL of an object (query-string SigV4, as @aws-sdk/s3-request-presigner makes
 * them): whoever holds it may read that one object until it expires, as the signer could.
 * Virtual-hosted style, or path style for a bucket name with dots (TLS wildcard certificates).
 */
export async function presignGetUrl(loc: S3Location, options: PresignOptions): Promise<string> {
  const host =
    options.host ??
    (loc.bucket.includes('.')
      ? `s3.${options.region}.amazonaws.com`
      : `${loc.bucket}.s3.${options.region}.amazonaws.com`);
  const path =
    !options.host && loc.bucket.includes('.')
      ? `/${loc.bucket}/${encodeKey(loc.key)}`
      : `/${encodeKey(loc.key)}`;
  const signer = new SignatureV4({
    service: 's3',
    region: options.region,
    credentials: options.credentials,
    sha256: Hash.bind(null, 'sha256'),
    uriEscapePath: false,
    applyChecksum: false,
  });
  const signed = await signer.presign(
    // UNSIGNED-PAYLOAD, as S3 expects of a presigned URL; the header itself is neither signed
    // nor put in the query (only `host` is signed).
    {
      method: 'GET',
      protocol: 'https:',
      hostname: host,
      path,
      headers: { host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
      query: {},
    },
    {
      expiresIn: options.expiresIn,
      unsignableHeaders: new Set(['x-amz-content-sha256']),
      unhoistableHeaders: new Set(['x-amz-content-sha256']),
      ...(options.signingDate ? { signingDate: options.signingDate } : {}),
    },
  );
  const query = Object.entries(signed.query ?? {})
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
  return `https://${host}${path}?${query}`;
}

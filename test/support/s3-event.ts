import type { S3Event } from 'aws-lambda';
import { LOCAL_REGION } from '../../local/emulators/local-aws.js';

/** S3 encodes keys in event records like a form: '+' for spaces, %XX for the rest, '/' kept. */
export function eventKey(key: string): string {
  return encodeURIComponent(key)
    .replace(/%20/g, '+')
    .replace(/%2F/g, '/')
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** An ObjectCreated:Put notification as S3 sends it to Lambda (one record per object). */
export function s3Event(bucket: string, objects: { key: string; size: number; eTag: string }[]): S3Event {
  return {
    Records: objects.map((o, i) => ({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: LOCAL_REGION,
      eventTime: '2026-03-02T09:15:00.000Z',
      eventName: 'ObjectCreated:Put',
      userIdentity: { principalId: 'AWS:AIDAEXAMPLE' },
      requestParameters: { sourceIPAddress: '203.0.113.7' },
      responseElements: {
        'x-amz-request-id': `REQ${i}`,
        'x-amz-id-2': 'EXAMPLEid2',
      },
      s3: {
        s3SchemaVersion: '1.0',
        configurationId: 'mlcycle-monitoring',
        bucket: {
          name: bucket,
          ownerIdentity: { principalId: 'A3EXAMPLE' },
          arn: `arn:aws:s3:::${bucket}`,
        },
        object: {
          key: eventKey(o.key),
          size: o.size,
          eTag: o.eTag,
          sequencer: `0066${(1000 + i).toString(16).toUpperCase()}ABCDEF`,
        },
      },
    })),
  };
}

import type { S3Event } from 'aws-lambda';
import type { UploadedObject } from '../../services/monitoring/deps.js';

/** The objects an S3 event names; keys arrive URL-encoded with '+' for spaces. */
export function uploadedObjects(event: S3Event): UploadedObject[] {
  return (event.Records ?? [])
    .filter((r) => r.eventName?.startsWith('ObjectCreated:'))
    .map((r) => ({
      bucket: r.s3.bucket.name,
      key: decodeURIComponent(r.s3.object.key.replace(/\+/g, ' ')),
      version: r.s3.object.versionId ?? r.s3.object.eTag ?? r.s3.object.sequencer ?? 'unversioned',
      ...(r.userIdentity?.principalId ? { uploader: r.userIdentity.principalId } : {}),
    }));
}

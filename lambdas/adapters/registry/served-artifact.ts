import type { Readable } from 'node:stream';
import type { ClientDownload } from '../../contracts/manifest.js';
import { DOWNLOAD_CACHE_CONTROL, downloadUrl } from '../../contracts/routes.js';
import { downloadKey } from '../../contracts/s3-layout.js';
import { ArtifactValidationError } from '../../domain/errors.js';
import { copyObjectAnySize } from '../multipart-copy.js';
import { parseS3Uri, type S3Objects, s3Uri } from '../s3-objects.js';

const SHA256 = /^[0-9a-f]{64}$/;
/** A served file's name: the artifact's own (model.json, model.tar.gz), nothing that walks paths. */
const FILE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** The file name a served copy keeps: the last segment of the artifact's key. */
export function servedFileName(artifactUri: string): string {
  const name = parseS3Uri(artifactUri).key.split('/').pop() ?? '';
  if (!FILE.test(name))
    throw new ArtifactValidationError(`artifact ${artifactUri} has no servable file name`);
  return name;
}

/**
 * Publishes the artifact a stage is about to serve where clients can download it: a copy under
 * downloads/<model>/<sha256>/<file> (the only prefix the CDN reads), with an immutable
 * Cache-Control. The copy's bytes are hashed after it lands and must match `sha256` (the one
 * the registry recorded and validation checked); a copy that does not is deleted and the
 * change refused, so no manifest ever points at bytes other than the registry's. A copy that
 * is already there (the same bytes served before) is verified the same way and kept.
 */
export async function publishServedArtifact(
  objects: S3Objects,
  bucket: string,
  input: { model: string; artifactUri: string; sha256: string; clientBaseUrl: string },
): Promise<ClientDownload> {
  if (!SHA256.test(input.sha256)) throw new ArtifactValidationError(`"${input.sha256}" is not a sha256`);
  const key = downloadKey(input.model, input.sha256, servedFileName(input.artifactUri));
  const served = { bucket, key };
  if (!(await objects.head(served))) {
    const source = parseS3Uri(input.artifactUri);
    const original = await objects.head(source);
    if (!original) {
      throw new ArtifactValidationError(
        `the artifact ${input.artifactUri} is gone: nothing was published; register or train the version again`,
      );
    }
    // Artifacts over 5 GiB (large checkpoints) are copied in parts, server side.
    await copyObjectAnySize(
      objects.s3,
      {
        Bucket: bucket,
        Key: key,
        CopySource: `${source.bucket}/${source.key.split('/').map(encodeURIComponent).join('/')}`,
        MetadataDirective: 'REPLACE',
        CacheControl: DOWNLOAD_CACHE_CONTROL,
        ContentType: key.endsWith('.json') ? 'application/json' : 'application/octet-stream',
        Metadata: { sha256: input.sha256 },
      },
      original.size,
    );
  }
  const sha256 = await objects.sha256(served);
  const head = await objects.head(served);
  if (sha256 !== input.sha256 || !head) {
    await objects.deleteAll(bucket, [key]);
    throw new ArtifactValidationError(
      `the served copy ${s3Uri(bucket, key)} has sha256 ${sha256}, not ${input.sha256}: it was deleted and nothing was published; promote or roll back again`,
    );
  }
  return { url: downloadUrl(input.clientBaseUrl, key), sha256, size: head.size };
}

/**
 * A served artifact by its download path's parts, streamed (the local gateway's counterpart of
 * CloudFront's bucket origin); undefined for anything that is not a served copy.
 */
export async function openServedArtifact(
  objects: S3Objects,
  bucket: string,
  parts: { model: string; sha256: string; file: string },
): Promise<{ body: Readable; size: number; contentType: string } | undefined> {
  if (!/^[a-z][a-z0-9-]{0,39}$/.test(parts.model) || !SHA256.test(parts.sha256) || !FILE.test(parts.file)) {
    return undefined;
  }
  const loc = { bucket, key: downloadKey(parts.model, parts.sha256, parts.file) };
  const head = await objects.head(loc);
  if (!head) return undefined;
  const contentType = parts.file.endsWith('.json') ? 'application/json' : 'application/octet-stream';
  return { body: await objects.getStream(loc), size: head.size, contentType };
}

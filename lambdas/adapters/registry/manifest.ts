import { type ClientManifest, clientManifestSchema, manifestKey } from '../../contracts/manifest.js';
import type { S3Objects } from '../s3-objects.js';

/** Writes deployments/<model>/<stage>.json, the manifest clients read to find what serves. */
export async function publishManifest(
  objects: S3Objects,
  bucket: string,
  manifest: ClientManifest,
): Promise<string> {
  const key = manifestKey(manifest.model, manifest.stage);
  await objects.putJson({ bucket, key }, clientManifestSchema.parse(manifest));
  return key;
}

export async function readManifest(
  objects: S3Objects,
  bucket: string,
  model: string,
  stage: string,
): Promise<ClientManifest | undefined> {
  const loc = { bucket, key: manifestKey(model, stage) };
  if (!(await objects.head(loc))) return undefined;
  return clientManifestSchema.parse(await objects.getJson(loc));
}

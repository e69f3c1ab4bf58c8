import { createHash } from 'node:crypto';
import { ArtifactValidationError } from '../../domain/errors.js';
import { parseS3Uri, type S3Objects } from '../s3-objects.js';

/** Who recorded an artifact's sha256, and what a mismatch means then. */
const RECORDED_BY = {
  registry: 'it was changed or replaced',
  trainer: 'the artifact changed after training: retrain',
} as const;

/** The one comparison of an artifact's sha256 with the one recorded for it. */
function requireRecordedSha256(
  artifactUri: string,
  sha256: string,
  expectedSha256: string,
  recordedBy: keyof typeof RECORDED_BY,
): void {
  if (sha256 !== expectedSha256) {
    throw new ArtifactValidationError(
      `artifact ${artifactUri} has sha256 ${sha256}, but the ${recordedBy} recorded ${expectedSha256}: ${RECORDED_BY[recordedBy]}`,
    );
  }
}

/** The artifact exists and its bytes (streamed) hash to what the registry recorded. */
export async function verifyArtifact(
  objects: S3Objects,
  artifactUri: string,
  expectedSha256: string,
): Promise<{ size: number; sha256: string }> {
  const loc = parseS3Uri(artifactUri);
  const head = await objects.head(loc);
  if (!head)
    throw new ArtifactValidationError(`artifact ${artifactUri} does not exist (deleted or archived?)`);
  const sha256 = await objects.sha256(loc);
  requireRecordedSha256(artifactUri, sha256, expectedSha256, 'registry');
  return { size: head.size, sha256 };
}

/**
 * The artifact's bytes, for a caller that loads them (Evaluate), refused unless they hash to
 * what the trainer recorded. A missing artifact is a NotFoundError naming it.
 */
export async function readVerifiedArtifact(
  objects: S3Objects,
  artifactUri: string,
  expectedSha256: string,
): Promise<{ bytes: Buffer; sha256: string }> {
  const bytes = await objects.getBytes(parseS3Uri(artifactUri));
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  requireRecordedSha256(artifactUri, sha256, expectedSha256, 'trainer');
  return { bytes, sha256 };
}

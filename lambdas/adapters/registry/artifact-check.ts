import { ArtifactValidationError } from '../../domain/errors.js';
import { parseS3Uri, type S3Objects } from '../s3-objects.js';

/** The artifact exists and its bytes hash to what the registry recorded. */
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
  if (sha256 !== expectedSha256) {
    throw new ArtifactValidationError(
      `artifact ${artifactUri} has sha256 ${sha256}, but the registry recorded ${expectedSha256}: it was changed or replaced`,
    );
  }
  return { size: head.size, sha256 };
}

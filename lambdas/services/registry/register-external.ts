import { z } from 'zod';
import { verifyArtifact } from '../../adapters/registry/artifact-check.js';
import type { Registry } from '../../adapters/registry/registry.js';
import { parseS3Uri, type S3Objects } from '../../adapters/s3-objects.js';
import type { MlcycleConfig } from '../../contracts/config-schema.js';
import { metricsSchema } from '../../contracts/pipeline.js';
import { datasetsPrefix, runsPrefix } from '../../contracts/s3-layout.js';
import { describeZodError } from '../../contracts/zod-errors.js';
import { ValidationError } from '../../domain/errors.js';
import { requireModel } from '../../domain/pipeline/admission.js';
import type { VersionRecord } from '../../domain/registry/types.js';

export const externalVersionSchema = z.strictObject({
  model: z.string(),
  /** s3://<artifacts bucket>/runs/<model>/… */
  artifact: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits'),
  /** What the registrant measured; kept as `reported`, never gated on. */
  metrics: metricsSchema.partial().default({}),
  version: z.string().optional(),
  bump: z.enum(['major', 'minor', 'patch']).default('minor'),
  dataset: z.string().default(''),
  datasetSha256: z.string().default(''),
  codeVersion: z.string().default('unknown'),
  framework: z.string().default('external'),
});
export type ExternalVersionInput = z.input<typeof externalVersionSchema>;

export interface RegisterExternalDeps {
  readonly config: MlcycleConfig;
  readonly bucket: string;
  readonly objects: S3Objects;
  readonly registry: Pick<Registry, 'versions'>;
}

/** A key inside `prefix` of the artifacts bucket, without `..` or empty segments. */
function requireUnder(uri: string, bucket: string, prefix: string, what: string, fix: string): void {
  const where = parseS3Uri(uri);
  const segments = where.key.split('/');
  const inside =
    where.bucket === bucket &&
    where.key.startsWith(prefix) &&
    !where.key.endsWith('/') &&
    !segments.some((s) => s === '..' || s === '.' || s === '');
  if (!inside)
    throw new ValidationError(`${what} ${uri} is not an object under s3://${bucket}/${prefix}; ${fix}`);
}

/**
 * Registers an artifact trained outside a pipeline, as `actor`: only from the model's own run
 * prefix of the artifacts bucket (where the stack's roles and retention reach), only if its bytes
 * hash to the stated sha256. Its metrics are the registrant's claim, stored as `reported`: no
 * gate passes on them, so a promotion of it needs a stage without gates until the platform has
 * measured it.
 */
export async function registerExternalVersion(
  deps: RegisterExternalDeps,
  body: unknown,
  actor: string,
): Promise<VersionRecord> {
  const parsed = externalVersionSchema.safeParse(body, { reportInput: true });
  if (!parsed.success) throw new ValidationError(describeZodError(parsed.error, 'registration'));
  const input = parsed.data;
  requireModel(deps.config, input.model);
  requireUnder(
    input.artifact,
    deps.bucket,
    runsPrefix(input.model),
    'artifact',
    `copy it there first (e.g. aws s3 cp model.bin s3://${deps.bucket}/${runsPrefix(input.model)}external-<id>/model.bin)`,
  );
  if (input.dataset) {
    requireUnder(
      input.dataset,
      deps.bucket,
      datasetsPrefix(input.model),
      'dataset',
      'upload it with mlcycle datasets upload',
    );
  }
  await verifyArtifact(deps.objects, input.artifact, input.sha256);
  return deps.registry.versions.registerVersion({
    model: input.model,
    ...(input.version ? { version: input.version } : { bump: input.bump }),
    metrics: {},
    reportedMetrics: input.metrics,
    lineage: {
      parentVersion: null,
      datasetUri: input.dataset,
      datasetSha256: input.datasetSha256,
      codeVersion: input.codeVersion,
      runId: '',
      hyperparameters: {},
      framework: input.framework,
      artifactUri: input.artifact,
      artifactSha256: input.sha256,
      author: actor,
    },
  });
}

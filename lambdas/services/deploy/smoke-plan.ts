import type { Registry } from '../../adapters/registry/registry.js';
import { readHead } from '../../adapters/registry/smoke-sample.js';
import { parseS3Uri, type S3Objects } from '../../adapters/s3-objects.js';
import type { DeployState, SmokePlan } from '../../contracts/pipeline.js';
import { RUN_INPUTS, runInputUri, SMOKE_FILES } from '../../contracts/s3-layout.js';
import { DataError, ValidationError } from '../../domain/errors.js';
import { parseCsv, toCsv } from '../../domain/ml/dataset.js';

/** Rows the deploy-time predict job answers: enough to exercise the entry, cheap on CPU. */
export const SMOKE_SAMPLE_ROWS = 32;

export interface PrepareSmokeDeps {
  readonly objects: S3Objects;
  readonly registry: Pick<Registry, 'versions'>;
}

/** Step Functions execution names are 1–80 of these; anything else must not become an S3 key. */
const EXECUTION_NAME = /^[A-Za-z0-9_-]{1,80}$/;

/** The folder of a contract artifact (…/runs/<model>/<runId>/model.tar.gz), or undefined for any other artifact. */
export function contractRunUri(artifactUri: string): string | undefined {
  const suffix = `/${RUN_INPUTS.modelArchive}`;
  return artifactUri.endsWith(suffix) ? artifactUri.slice(0, -RUN_INPUTS.modelArchive.length) : undefined;
}

/** Where this execution's smoke sample and its predictions live, under the artifact's run. */
export function smokeUris(
  runUri: string,
  executionName: string,
): { inputUri: string; predictionsUri: string } {
  if (!EXECUTION_NAME.test(executionName)) {
    throw new ValidationError(
      `execution name "${executionName.slice(0, 100)}" is not 1–80 letters, digits, - or _: start the pipeline through mlcycle`,
    );
  }
  return {
    inputUri: `${runUri}${SMOKE_FILES.features(executionName)}`,
    predictionsUri: `${runUri}${SMOKE_FILES.predictions(executionName)}`,
  };
}

/**
 * PrepareSmoke's use case, right before Deploy: for a contract artifact, writes the rows its
 * predict entry must answer in a predict job (SmokePredict) and says where; any other artifact
 * Deploy loads and scores itself. The artifact and its sha256 come from the registry, never
 * from the state. The rows are the head of the version's holdout features (rows the evaluation
 * scored, so Deploy can also check the answers still agree), else the head of its dataset
 * without the target (a version registered outside a pipeline).
 */
export async function prepareSmoke(deps: PrepareSmokeDeps, state: DeployState): Promise<SmokePlan> {
  const version = await deps.registry.versions.requireVersion(state.model, state.registration.version);
  const { artifactUri, artifactSha256, datasetUri } = version.lineage;
  const runUri = contractRunUri(artifactUri);
  if (!runUri) {
    return {
      required: false,
      reason: `${artifactUri} is not a model.tar.gz: Deploy loads and scores it itself`,
    };
  }
  const sample = await pickSample(deps.objects, runUri, datasetUri, state.training);
  if (!sample) {
    throw new DataError(
      `no rows to smoke-test ${state.model} ${version.version} with: neither ${runInputUri(runUri, 'holdoutFeatures')} ` +
        `nor its dataset ${datasetUri || '(none recorded)'} exists; restore one, or retrain the version`,
    );
  }
  const uris = smokeUris(runUri, state.execution.name);
  await deps.objects.put(parseS3Uri(uris.inputUri), sample.csv, 'text/csv');
  return {
    required: true,
    runUri,
    ...uris,
    artifactUri,
    sha256: artifactSha256,
    rows: sample.rows,
    source: sample.source,
    sourceUri: sample.uri,
  };
}

interface Sample {
  readonly source: 'holdout' | 'dataset';
  readonly uri: string;
  readonly csv: string;
  readonly rows: number;
}

async function pickSample(
  objects: S3Objects,
  runUri: string,
  datasetUri: string,
  training: { readonly target: string; readonly exclude: readonly string[] },
): Promise<Sample | undefined> {
  const holdout = runInputUri(runUri, 'holdoutFeatures');
  const candidates: { source: Sample['source']; uri: string; drop: readonly string[] }[] = [
    { source: 'holdout', uri: holdout, drop: [] },
  ];
  if (datasetUri.startsWith('s3://')) {
    candidates.push({ source: 'dataset', uri: datasetUri, drop: [training.target, ...training.exclude] });
  }
  for (const c of candidates) {
    const text = await readHead(objects, c.uri);
    if (text === undefined) continue;
    const table = parseCsv(text, `the smoke sample ${c.uri}`);
    const rows = table.rows.slice(0, SMOKE_SAMPLE_ROWS);
    if (rows.length === 0) continue;
    const dropped = new Set(c.drop);
    const columns = table.columns.filter((name) => !dropped.has(name));
    return { source: c.source, uri: c.uri, csv: toCsv(columns, rows), rows: rows.length };
  }
  return undefined;
}

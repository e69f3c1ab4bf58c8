import { SFNClient } from '@aws-sdk/client-sfn';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { withTransientErrors } from '../../adapters/aws-clients.js';
import { deployedConfig } from '../../adapters/deployed-config.js';
import { StartStore } from '../../adapters/pipeline/start-store.js';
import { Registry } from '../../adapters/registry/registry.js';
import type { MlcycleConfig } from '../../contracts/config-schema.js';
import type { StartDeps } from '../../services/pipeline/start.js';

type StartNames = { table: string; bucket: string; stateMachineArn: string };

function startAdapters(doc: DynamoDBDocumentClient, names: StartNames, sfn: SFNClient) {
  return {
    bucket: names.bucket,
    stateMachineArn: names.stateMachineArn,
    starts: new StartStore(doc, names.table),
    registry: new Registry(doc, names.table),
    sfn,
  } satisfies Omit<StartDeps, 'config'>;
}

/** What the start service needs, for the handlers that start executions (HTTP, schedule, drift). */
export function startDeps(
  doc: DynamoDBDocumentClient,
  names: StartNames,
  config: MlcycleConfig,
  sfn: SFNClient = withTransientErrors(new SFNClient({})),
): StartDeps {
  return { config, ...startAdapters(doc, names, sfn) };
}

/** A starting handler's deps: adapters and clients built once, the deployed config read at each start. */
export interface StartingDeps {
  readonly start: Omit<StartDeps, 'config'>;
  readonly config: () => MlcycleConfig;
}

export function startingDeps(doc: DynamoDBDocumentClient, names: StartNames): StartingDeps {
  return {
    start: startAdapters(doc, names, withTransientErrors(new SFNClient({}))),
    config: () => deployedConfig(),
  };
}

import { SFNClient } from '@aws-sdk/client-sfn';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { withTransientErrors } from '../../adapters/aws-clients.js';
import { StartStore } from '../../adapters/pipeline/start-store.js';
import { RegistryStore } from '../../adapters/registry/registry-store.js';
import type { MlcycleConfig } from '../../contracts/config-schema.js';
import type { StartDeps } from '../../services/pipeline/start.js';

/** What the start service needs, for the handlers that start executions (HTTP, schedule, drift). */
export function startDeps(
  doc: DynamoDBDocumentClient,
  names: { table: string; bucket: string; stateMachineArn: string },
  config: MlcycleConfig,
  sfn: SFNClient = withTransientErrors(new SFNClient({})),
): StartDeps {
  return {
    config,
    bucket: names.bucket,
    stateMachineArn: names.stateMachineArn,
    starts: new StartStore(doc, names.table),
    registry: new RegistryStore(doc, names.table),
    sfn,
  };
}

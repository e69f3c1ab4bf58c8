import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { MlcycleConfig } from '../lambdas/contracts/config-schema.js';

/** Where a function finds the deployed config (Lambda mounts layers under /opt). */
export const DEPLOYED_CONFIG_PATH = '/opt/mlcycle/config.json';

export interface DeployedConfigProps {
  /** The validated config this stack is synthesised from. */
  readonly config: MlcycleConfig;
  /** @default [lambda.Architecture.ARM_64] */
  readonly architectures?: readonly lambda.Architecture[];
  /** @default - any runtime */
  readonly runtimes?: readonly lambda.Runtime[];
}

/**
 * The stack's own config, as a Lambda layer: the one source of every policy the handlers apply
 * (gates, approvers, quorum, rollbackBy, identities, monitoring, archival). It is part of what is
 * deployed — changing a policy is a `cdk deploy`, reviewed like code — and nothing a caller passes
 * can replace it. A layer rather than environment variables: no 4 KB limit, one copy for all
 * functions, and a new version on every change (each function is updated with it).
 */
export class DeployedConfig extends Construct {
  readonly layer: lambda.LayerVersion;
  /** The JSON the functions read. */
  readonly json: string;

  constructor(scope: Construct, id: string, props: DeployedConfigProps) {
    super(scope, id);
    this.json = `${JSON.stringify(props.config, null, 2)}\n`;
    const dir = mkdtempSync(join(tmpdir(), 'mlcycle-config-layer-'));
    mkdirSync(join(dir, 'mlcycle'));
    writeFileSync(join(dir, 'mlcycle', 'config.json'), this.json);
    this.layer = new lambda.LayerVersion(this, 'Layer', {
      description: `mlcycle deployed config (${DEPLOYED_CONFIG_PATH})`,
      code: lambda.Code.fromAsset(dir),
      compatibleArchitectures: [...(props.architectures ?? [lambda.Architecture.ARM_64])],
      ...(props.runtimes ? { compatibleRuntimes: [...props.runtimes] } : {}),
    });
  }
}

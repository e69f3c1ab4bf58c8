import { userInfo } from 'node:os';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { fromIni, fromNodeProviderChain } from '@aws-sdk/credential-providers';
import type { Command } from 'commander';
import { createDocumentClient, createS3Client } from '../../lambdas/adapters/aws-clients.js';
import { ValidationError } from '../../lambdas/domain/errors.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/emulators/local-aws.js';
import { type LocalStack, runningStack, startLocalStack } from '../../local/runtime.js';
import { loadRunnableConfig } from '../../local/trainers/config-trainers.js';
import { ControlClient } from './control-client.js';
import { createOutput } from './output.js';
import type { CliContext } from './types.js';

/** Options every command inherits from the program. */
export interface GlobalOptions {
  readonly config: string;
  readonly aws?: boolean;
  readonly profile?: string;
  readonly region?: string;
  readonly dir: string;
  readonly as?: string;
  readonly json?: boolean;
}

export function globalOptions(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

function actorOf(opts: GlobalOptions): string {
  return (
    opts.as ?? process.env.MLCYCLE_USER ?? `${userInfo().username}@${process.env.HOSTNAME ?? 'localhost'}`
  );
}

/** Stack outputs by key fragment (the stack names them BucketName, TableName, ...). */
async function stackOutputs(cfn: CloudFormationClient, stackName: string): Promise<Record<string, string>> {
  try {
    const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    const outputs: Record<string, string> = {};
    for (const o of out.Stacks?.[0]?.Outputs ?? [])
      if (o.OutputKey && o.OutputValue) outputs[o.OutputKey] = o.OutputValue;
    return outputs;
  } catch (err) {
    throw new ValidationError(
      `cannot read stack "${stackName}" (${(err as Error).message}); deploy it with npx cdk deploy, or drop --aws to use the local stack`,
      undefined,
      { cause: err },
    );
  }
}

function pick(outputs: Record<string, string>, fragment: string, stackName: string): string {
  const found = Object.entries(outputs).find(([k]) => k.toLowerCase().includes(fragment.toLowerCase()));
  if (!found) throw new ValidationError(`stack "${stackName}" has no output named like "${fragment}"`);
  return found[1];
}

/** Where the embedded stack this command started runs, if it started one. */
let ownStack: LocalStack | undefined;

/** The local stack this process runs (started by the command itself), if any. */
export function inProcessStack(): LocalStack | undefined {
  return ownStack;
}

/**
 * Builds the context of a command: AWS (with --aws or --profile; names from the stack's
 * outputs) or the local stack — the one `mlcycle up` runs, or, when none runs, an embedded one
 * started for this command and stopped after it.
 */
export async function createContext(cmd: Command): Promise<CliContext> {
  const opts = globalOptions(cmd);
  const config = loadRunnableConfig(opts.config);
  const output = createOutput(Boolean(opts.json));
  if (opts.aws || opts.profile) {
    if (opts.as || process.env.MLCYCLE_USER) {
      throw new ValidationError(
        `${opts.as ? '--as' : 'MLCYCLE_USER'} is a local convenience and is refused with --aws: on AWS you act as your authenticated AWS principal, mapped to a person under identities in the config (see: mlcycle --aws whoami)`,
      );
    }
    const credentials = opts.profile ? fromIni({ profile: opts.profile }) : fromNodeProviderChain();
    const clientConfig = {
      ...(opts.region ? { region: opts.region } : {}),
      credentials,
    };
    const cfn = new CloudFormationClient(clientConfig);
    const outputs = await stackOutputs(cfn, config.project);
    cfn.destroy();
    const dynamo = new DynamoDBClient(clientConfig);
    const s3 = createS3Client(clientConfig);
    const sfn = new SFNClient(clientConfig);
    const doc = createDocumentClient(dynamo);
    const region = await sfn.config.region();
    const apiUrl = pick(outputs, 'ApiUrl', config.project);
    return {
      config,
      target: 'aws',
      where: { kind: 'aws', clientConfig },
      control: new ControlClient(apiUrl, { kind: 'iam', region, credentials }),
      actor: null,
      tableName: pick(outputs, 'Table', config.project),
      bucket: pick(outputs, 'Bucket', config.project),
      stateMachineArn: pick(outputs, 'StateMachine', config.project),
      dynamo,
      doc,
      s3,
      sfn,
      output,
      async close() {
        for (const c of [doc, dynamo, s3, sfn]) c.destroy();
      },
    };
  }

  const actor = actorOf(opts);

  let endpoints = runningStack(opts.dir);
  if (!endpoints) {
    output.info(
      `(no local stack running in ${opts.dir}; starting one for this command: npx mlcycle up keeps one running)`,
    );
    ownStack = await startLocalStack({ config, dir: opts.dir });
    endpoints = ownStack.endpoints;
  } else {
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
      AWS_ENDPOINT_URL_S3: endpoints.s3,
      AWS_ENDPOINT_URL_SFN: endpoints.sfn,
    });
  }
  const local = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  const dynamo = new DynamoDBClient({ ...local, endpoint: endpoints.dynamodb });
  const s3 = createS3Client({ ...local, endpoint: endpoints.s3 });
  const sfn = new SFNClient({ ...local, endpoint: endpoints.sfn });
  const doc = createDocumentClient(dynamo);
  return {
    config,
    target: 'local',
    where: { kind: 'local', dir: opts.dir, api: endpoints.api },
    control: new ControlClient(endpoints.api, { kind: 'local', actor }),
    tableName: endpoints.tableName,
    bucket: endpoints.bucket,
    stateMachineArn: endpoints.stateMachineArn,
    dynamo,
    doc,
    s3,
    sfn,
    actor,
    output,
    async close() {
      for (const c of [doc, dynamo, s3, sfn]) c.destroy();
      if (ownStack) {
        await ownStack.notifications.idle();
        await ownStack.stop();
        ownStack = undefined;
      }
    },
  };
}

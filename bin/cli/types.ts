import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Command } from 'commander';
import type { MlcycleConfig } from '../../lambdas/contracts/config-schema.js';
import { ValidationError } from '../../lambdas/domain/errors.js';
import type { ControlClient } from './control-client.js';

/**
 * What every CLI command gets: the validated config, SDK clients pointed at AWS (--aws or a
 * profile) or at the local stack, and the resource names. Commands call the same domain
 * modules and adapters as the handlers.
 */
export interface CliContext {
  readonly config: MlcycleConfig;
  readonly target: 'aws' | 'local';
  /**
   * Region and credentials of the AWS clients (AWS only), for the commands that build their own
   * (Batch, CloudWatch Logs); locally, where the local state folder is (`--dir`).
   */
  readonly where:
    | { readonly kind: 'aws'; readonly clientConfig: NonNullable<ConstructorParameters<typeof SFNClient>[0]> }
    | {
        readonly kind: 'local';
        readonly dir: string /** The local gateway's base URL. */;
        readonly api: string;
      };
  readonly tableName: string;
  readonly bucket: string;
  readonly stateMachineArn: string;
  readonly dynamo: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
  readonly s3: S3Client;
  readonly sfn: SFNClient;
  /**
   * The control API (start runs and promotions, decide, roll back, register): every change to
   * what serves goes through it, as the caller the server authenticates.
   */
  readonly control: ControlClient;
  /**
   * Who acts locally: --as, MLCYCLE_USER, or the OS user (a local convenience, sent to the local
   * gateway). Null on AWS, where the server knows the caller from the request's signature.
   */
  readonly actor: string | null;
  readonly output: Output;
  /** Releases clients and any emulators started for this command. */
  close(): Promise<void>;
}

export interface Output {
  readonly json: boolean;
  /** A human table (default) or, with --json, the rows as one JSON line. */
  table(rows: readonly Record<string, unknown>[], columns?: readonly string[]): void;
  /** A JSON document with --json; otherwise `human()` is printed. */
  result(value: unknown, human: () => string): void;
  /** Progress for humans (stderr with --json, so stdout stays machine-readable). */
  info(line: string): void;
}

/** Each command module exports one of these; bin/mlcycle.ts registers them. */
export type RegisterCommands = (program: Command, context: (cmd: Command) => Promise<CliContext>) => void;

/** Runs one command's body with its context, and always releases the context after it. */
export async function inContext<T>(
  context: (cmd: Command) => Promise<CliContext>,
  cmd: Command,
  run: (ctx: CliContext) => Promise<T>,
): Promise<T> {
  const ctx = await context(cmd);
  try {
    return await run(ctx);
  } finally {
    await ctx.close();
  }
}

/** A model the command line names must be one of the config's: refused before anything runs. */
export function configuredModel(ctx: Pick<CliContext, 'config'>, model: string): void {
  if (!(model in ctx.config.models)) {
    throw new ValidationError(
      `unknown model "${model}"; the config defines: ${Object.keys(ctx.config.models).join(', ')}`,
    );
  }
}

import { isDeepStrictEqual } from 'node:util';
import type { MlcycleConfig } from '../../contracts/config-schema.js';
import { type PipelineState, pipelineRequestSchema, type StartRecord } from '../../contracts/pipeline.js';
import { describeZodError } from '../../contracts/zod-errors.js';
import { ForbiddenError, ValidationError } from '../../domain/errors.js';
import { admittedState } from '../../domain/pipeline/admission.js';

export interface AdmitDeps {
  /** The deployed config. */
  readonly config: MlcycleConfig;
  readonly starts: { get(executionName: string): Promise<StartRecord | undefined> };
}

export interface ExecutionRef {
  readonly arn: string;
  readonly name: string;
}

/**
 * The lifecycle's first state. An execution runs only if the start service recorded it (who
 * asked, and what), and only for what was recorded: the state every later step reads is built
 * here from that record and the deployed config. An input that carries anything else (a
 * policy, an identity) or differs from the record is refused, and nothing runs.
 */
export async function admitExecution(
  deps: AdmitDeps,
  input: unknown,
  execution: ExecutionRef,
): Promise<PipelineState> {
  const parsed = pipelineRequestSchema.safeParse(input, { reportInput: true });
  if (!parsed.success) {
    const unknown = parsed.error.issues.flatMap((issue) =>
      issue.code === 'unrecognized_keys' ? issue.keys : [],
    );
    // One line, the refused keys first: a failure's cause is one line of at most 500 characters.
    throw new ValidationError(
      (unknown.length ? `execution input carries ${unknown.join(', ')}, which it may not: ` : '') +
        'the input names only model, stage, reason, dataset, bump, version, promote, overrides, force and sweep; policy and identity come from the deployed stack. ' +
        describeZodError(parsed.error, 'execution input').split('\n').join('; '),
    );
  }
  const record = await deps.starts.get(execution.name);
  if (!record) {
    throw new ForbiddenError(
      `execution ${execution.name} was not started through mlcycle (no start record): start runs with ` +
        '`mlcycle pipeline start` and promotions with `mlcycle models promote`, which record who asked; nothing was run',
    );
  }
  if (!isDeepStrictEqual(parsed.data, record.request)) {
    throw new ForbiddenError(
      `execution ${execution.name}'s input differs from what ${record.requestedBy} asked for; nothing was run`,
    );
  }
  return admittedState(deps.config, record, execution);
}

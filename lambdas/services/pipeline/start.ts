import { randomBytes } from 'node:crypto';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { parseS3Uri } from '../../adapters/s3-objects.js';
import type { MlcycleConfig } from '../../contracts/config-schema.js';
import {
  type PipelineRequest,
  type PipelineRequestInput,
  pipelineRequestSchema,
  type StartRecord,
  type Trigger,
} from '../../contracts/pipeline.js';
import { datasetsPrefix } from '../../contracts/s3-layout.js';
import { describeZodError } from '../../contracts/zod-errors.js';
import { checkQuorumReachable } from '../../domain/approval/quorum.js';
import { ConflictError, NotFoundError, ValidationError } from '../../domain/errors.js';
import { checkOverrides } from '../../domain/ml/trainer-config.js';
import { requireModel, requireStage, trainingSettings } from '../../domain/pipeline/admission.js';
import { parseVersion } from '../../domain/registry/semver.js';
import { SERVABLE } from '../../domain/registry/status.js';
import type { VersionRecord } from '../../domain/registry/types.js';
import { planSweep, sweepBudgetProblem } from '../../domain/sweeps/plan.js';
import { type RolloutStartReads, requireRolloutStartable } from '../rollouts/startable.js';

/** What starting an execution needs; an SFNClient satisfies `sfn`. */
export interface StartDeps {
  /** The deployed config (never the caller's). */
  readonly config: MlcycleConfig;
  readonly bucket: string;
  readonly stateMachineArn: string;
  readonly starts: {
    put(record: StartRecord): Promise<void>;
    delete(executionName: string): Promise<void>;
  };
  readonly registry: {
    readonly versions: { getVersion(model: string, version: string): Promise<VersionRecord | undefined> };
  } & Partial<RolloutStartReads>;
  readonly sfn: { send(command: StartExecutionCommand): Promise<{ executionArn?: string }> };
  readonly clock?: () => Date;
}

/** Who asks: an authenticated person, or the platform itself for schedules and drift. */
export interface Requestor {
  readonly person: string;
  readonly trigger: Trigger;
  readonly principal: string | null;
}

export interface StartedExecution {
  readonly executionArn: string;
  readonly executionName: string;
  readonly requestedBy: string;
  readonly request: PipelineRequest;
  /** A sweep's plan as started: how many trials, how many at once, and a note when a grid was cut. */
  readonly sweep?: { readonly trials: number; readonly concurrency: number; readonly message?: string };
}

/**
 * Starts a training run or a promotion: checks the request against the deployed config and the
 * registry (so a doomed request is refused now, with the reason, instead of failing in an
 * execution), records who asked, then starts the execution. If StartExecution fails, the record
 * is removed again.
 */
export async function startPipeline(
  deps: StartDeps,
  input: PipelineRequestInput,
  who: Requestor,
): Promise<StartedExecution> {
  const parsed = pipelineRequestSchema.safeParse(input, { reportInput: true });
  if (!parsed.success) throw new ValidationError(describeZodError(parsed.error, 'request'));
  const parsedRequest = parsed.data;
  const model = requireModel(deps.config, parsedRequest.model);
  const env = requireStage(deps.config, parsedRequest.stage);
  // Overrides are checked here, against the deployed trainer schema, whatever the client checked;
  // the request is recorded and started with them coerced to the declared types.
  const request = { ...parsedRequest, overrides: checkRequestOverrides(deps.config, parsedRequest, model) };
  if (request.promote && request.force !== undefined) {
    throw new ValidationError(
      `force applies to training runs; a promotion of ${request.model} ${request.promote} trains nothing: drop it`,
    );
  }
  if (request.rollout && !request.promote) {
    throw new ValidationError(
      `a rollout starts from a registered version: give the version to roll out (promote), not a training run`,
    );
  }
  if (request.promote) await checkPromotable(deps, request);
  else checkTrainingRequest(deps, request);
  const sweep = request.sweep ? checkSweep(deps.config, request, model, env) : undefined;
  checkQuorumReachable(request.stage, env.approvers, env.quorum, who.person);

  const now = (deps.clock ?? (() => new Date()))();
  const executionName = executionNameFor(request, who.trigger, now);
  const record: StartRecord = {
    executionName,
    request,
    requestedBy: who.person,
    trigger: who.trigger,
    principal: who.principal,
    startedAt: now.toISOString(),
  };
  await deps.starts.put(record);
  let executionArn: string | undefined;
  try {
    const out = await deps.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: deps.stateMachineArn,
        name: executionName,
        input: JSON.stringify(request),
      }),
    );
    executionArn = out.executionArn;
  } catch (err) {
    await deps.starts.delete(executionName).catch(() => undefined);
    throw err;
  }
  if (!executionArn) throw new Error('StartExecution returned no execution ARN');
  return { executionArn, executionName, requestedBy: who.person, request, ...(sweep ? { sweep } : {}) };
}

/**
 * A sweep's spec planned now, against the deployed trainer schema (every swept value checked as
 * `--set` would be), so a bad spec is refused before anything is recorded or started. Admit plans
 * it again from the start record, with the same seed and so the same trials.
 */
function checkSweep(
  config: MlcycleConfig,
  request: PipelineRequest,
  model: ReturnType<typeof requireModel>,
  env: ReturnType<typeof requireStage>,
): NonNullable<StartedExecution['sweep']> {
  const spec = request.sweep;
  if (!spec) throw new Error('checkSweep needs a sweep');
  if (request.promote) {
    throw new ValidationError(
      `a sweep trains; a promotion of ${request.model} ${request.promote} trains nothing: drop the sweep or the promotion`,
    );
  }
  const plan = planSweep(
    {
      model: request.model,
      task: model.task,
      trainer: config.trainers?.[request.model],
      base: { ...model.training.hyperparameters, ...request.overrides },
    },
    spec,
    'check',
  );
  const over = sweepBudgetProblem(
    { trials: plan.trials.length, concurrency: plan.concurrency },
    trainingSettings(config, request.model),
    env.approvalTimeoutHours * 3600,
  );
  if (over) throw new ValidationError(`model ${request.model}: ${over}`);
  return {
    trials: plan.trials.length,
    concurrency: plan.concurrency,
    ...(plan.message ? { message: plan.message } : {}),
  };
}

function checkRequestOverrides(
  config: MlcycleConfig,
  request: PipelineRequest,
  model: ReturnType<typeof requireModel>,
): PipelineRequest['overrides'] {
  if (Object.keys(request.overrides).length === 0) return {};
  if (request.promote) {
    throw new ValidationError(
      `overrides (${Object.keys(request.overrides).join(', ')}) apply to training runs; a promotion of ${request.model} ${request.promote} trains nothing: drop them`,
    );
  }
  return checkOverrides(
    request.model,
    config.trainers?.[request.model],
    model.training.hyperparameters,
    request.overrides,
  );
}

async function checkPromotable(deps: StartDeps, request: PipelineRequest): Promise<void> {
  const version = parseVersion(request.promote);
  const record = await deps.registry.versions.getVersion(request.model, version);
  if (!record) throw new NotFoundError(`model ${request.model} has no version ${version}`);
  if (!SERVABLE.includes(record.status)) {
    throw new ConflictError(
      `${request.model} ${version} is ${record.status}; only ${SERVABLE.join(' or ')} versions can be promoted`,
    );
  }
  const { stages, rollouts } = deps.registry;
  if (request.rollout && stages && rollouts) {
    await requireRolloutStartable({ stages, rollouts }, request.model, request.stage, version);
  }
}

function checkTrainingRequest(deps: StartDeps, request: PipelineRequest): void {
  if (request.version) parseVersion(request.version);
  if (!request.dataset) return;
  const prefix = datasetsPrefix(request.model);
  const where = parseS3Uri(request.dataset);
  if (where.bucket !== deps.bucket || !where.key.startsWith(prefix) || where.key.endsWith('/')) {
    throw new ValidationError(
      `dataset ${request.dataset} is not an object under s3://${deps.bucket}/${prefix}; upload it there (mlcycle datasets upload ${request.model} <file>)`,
    );
  }
}

/**
 * Readable, unique, and within Step Functions' 80 characters: `<model>-<stage>-<kind>-<time>-<rand>`.
 * The random tail keeps two requests in the same millisecond apart.
 */
export function executionNameFor(request: PipelineRequest, trigger: Trigger, now: Date): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.(\d+)Z$/, '$1Z');
  const kind = request.promote
    ? `${request.rollout ? 'rollout' : 'promote'}-${request.promote.replace(/[^A-Za-z0-9]/g, '-')}`
    : request.sweep
      ? 'sweep'
      : trigger;
  const tail = randomBytes(2).toString('hex');
  const head = `${request.model}-${request.stage}-${kind}-${stamp}`.slice(0, 80 - tail.length - 1);
  return `${head}-${tail}`;
}

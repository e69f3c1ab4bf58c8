import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BATCH_JOB_RESOURCE } from '../../lambdas/contracts/batch-jobs.js';
import '../polyfills.js';
import { StateMachine } from 'aws-local-stepfunctions';
import type { AslDefinition, AslState } from './definition.js';
import {
  atState,
  type ExecutionRecord,
  failAsInterrupted,
  LOCAL_RUNTIME_ERRORS,
  SfnApiError,
} from './execution-record.js';
import { type EventLog, type HistoryEvent, toHistoryEvent } from './history.js';
import { localDefinition, longTimer, taskTimeout, withTimeout } from './timeouts.js';

/** How Task resources run locally; built by the runtime from the definition's resources. */
export interface TaskRunner {
  /** Plain Lambda ARN as Resource: the function's result is the task result. */
  lambda(functionArn: string, input: unknown): Promise<unknown>;
  /** `lambda:invoke.waitForTaskToken`: invoke, then the engine waits for the token. */
  invokeAsync(functionName: string, payload: unknown): Promise<void>;
  /**
   * `aws-sdk:batch:submitJob.waitForTaskToken`: submit the job (its Parameters carry the task
   * token); when it ends, the batch-job-ended handler completes the task, as on AWS.
   */
  submitBatchJob(parameters: unknown): Promise<unknown>;
}

interface PendingToken {
  executionArn: string;
  state: 'waiting' | 'done' | 'timed-out';
  resolve?: (output: unknown) => void;
  reject?: (err: Error) => void;
}

class TaskCallbackError extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

export interface LocalStepFunctionsOptions {
  readonly stateMachineArn: string;
  readonly definition: AslDefinition;
  readonly runner: TaskRunner;
  /** Folder that keeps one JSON file per execution, so status survives a restart. */
  readonly dir: string;
  readonly onEvent?: (execution: ExecutionRecord, event: HistoryEvent) => void;
  /**
   * Called once an execution has ended, whatever its status, before `settled` resolves: the
   * runtime delivers the "Execution Status Change" event EventBridge would. A rejection leaves
   * the execution to be notified again on the next start (`notifyUnreported`).
   */
  readonly onExecutionEnded?: (execution: ExecutionRecord) => Promise<void>;
}

/**
 * The embedded default's Step Functions: runs the lifecycle ASL with aws-local-stepfunctions,
 * keeps executions and their history, and implements task tokens (SendTaskSuccess/Failure)
 * for `.waitForTaskToken` states — which the library itself does not.
 */
export class LocalStepFunctions {
  private readonly executions = new Map<string, ExecutionRecord>();
  private readonly tokens = new Map<string, PendingToken>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly aborts = new Map<string, () => void>();
  /**
   * Executions told to end (stopped, timed out, the runtime stopping): no Task starts for them
   * from then on, as on AWS. The library would still run the first state of a Map item queued
   * behind MaxConcurrency once an aborted iteration frees its slot.
   */
  private readonly halted = new Set<string>();
  /** The error and cause a StopExecution gave, until the execution has ended with them. */
  private readonly stopReasons = new Map<string, { error: string; cause: string }>();
  private readonly machine: StateMachine;
  /** Set by stopAll: executions aborted from now on fail as "the runtime stopped". */
  private stopping = false;

  /** TimeoutSecondsPath per Task state, enforced here (see localDefinition). */
  private readonly timeoutPaths: Record<string, string>;
  /** The definition's top-level TimeoutSeconds, enforced here (see localDefinition). */
  private readonly executionTimeoutSeconds: number | undefined;

  constructor(private readonly options: LocalStepFunctionsOptions) {
    const { definition, timeoutPaths, executionTimeoutSeconds } = localDefinition(options.definition);
    this.timeoutPaths = timeoutPaths;
    this.executionTimeoutSeconds = executionTimeoutSeconds;
    this.machine = new StateMachine(definition as never, {
      validationOptions: { checkArn: false },
    });
    mkdirSync(options.dir, { recursive: true });
    this.loadPersisted();
  }

  get stateMachineArn(): string {
    return this.options.stateMachineArn;
  }

  get definition(): AslDefinition {
    return this.options.definition;
  }

  private loadPersisted(): void {
    for (const file of readdirSync(this.options.dir).filter((f) => f.endsWith('.json'))) {
      const record = JSON.parse(readFileSync(join(this.options.dir, file), 'utf8')) as ExecutionRecord;
      if (record.status === 'RUNNING') {
        // The process that ran it is gone (killed before it could stop cleanly), and an
        // execution cannot be resumed: fail it and say so. `notifyUnreported` then closes what
        // it left open (approval requests, its run), as for any ended execution.
        failAsInterrupted(
          record,
          LOCAL_RUNTIME_ERRORS.restarted,
          `mlcycle up went away while this execution was running${atState(record)}; executions do not survive a restart of the local runtime, so it was failed when the runtime started again: nothing it was doing takes effect (approval requests are closed, nothing deploys). Start it again if it is still wanted.`,
        );
        this.persist(record);
      }
      this.executions.set(record.executionArn, record);
    }
  }

  /**
   * Runs `onExecutionEnded` for executions that ended without it having run (failed on this
   * start, or ended while the hook could not complete). Call once the handlers can run.
   */
  async notifyUnreported(): Promise<void> {
    for (const record of this.executions.values()) {
      if (record.status !== 'RUNNING' && record.endNotified === false) await this.notifyEnded(record);
    }
  }

  private async notifyEnded(record: ExecutionRecord): Promise<void> {
    if (!this.options.onExecutionEnded) return;
    try {
      await this.options.onExecutionEnded(record);
      record.endNotified = true;
    } catch {
      // Left false: the next start of the runtime tries again (and the reconciler closes
      // whatever approval requests it left open meanwhile).
      record.endNotified = false;
    }
    this.persist(record);
  }

  private persist(record: ExecutionRecord): void {
    const file = join(this.options.dir, `${record.name}.json`);
    writeFileSync(`${file}.tmp`, JSON.stringify(record));
    renameSync(`${file}.tmp`, file);
  }

  startExecution(input: unknown, name: string = randomUUID()): ExecutionRecord {
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(name)) {
      throw new SfnApiError('InvalidArn', `execution name "${name}" must be 1-80 letters, digits, - or _`);
    }
    const executionArn = `${this.options.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    if (this.executions.has(executionArn) || existsSync(join(this.options.dir, `${name}.json`))) {
      throw new SfnApiError('ExecutionAlreadyExists', `execution ${name} already exists`);
    }
    const record: ExecutionRecord = {
      executionArn,
      stateMachineArn: this.options.stateMachineArn,
      name,
      status: 'RUNNING',
      startDate: Date.now(),
      input: JSON.stringify(input),
      events: [],
    };
    this.executions.set(executionArn, record);
    this.persist(record);
    this.running.set(
      executionArn,
      this.run(record, input).finally(() => this.running.delete(executionArn)),
    );
    return record;
  }

  private async run(record: ExecutionRecord, input: unknown): Promise<void> {
    const token = `local:${record.name}:${randomUUID()}`;
    const overrides = this.overridesFor(record.executionArn, token);
    const execution = this.machine.run(input as never, {
      overrides: { taskResourceLocalHandlers: overrides as never },
      context: {
        Execution: {
          Id: record.executionArn,
          Name: record.name,
          Input: input,
          StartTime: new Date(record.startDate).toISOString(),
          RoleArn: 'arn:aws:iam::000000000000:role/mlcycle-local',
        },
        StateMachine: {
          Id: this.options.stateMachineArn,
          Name: this.options.stateMachineArn.split(':').pop(),
        },
        Task: { Token: token },
      } as never,
    });
    this.aborts.set(record.executionArn, execution.abort);
    let timedOut = false;
    const clock =
      this.executionTimeoutSeconds === undefined
        ? undefined
        : longTimer(this.executionTimeoutSeconds * 1000, () => {
            timedOut = true;
            this.halted.add(record.executionArn);
            execution.abort();
          });
    const collecting = this.collect(record, execution.eventLogs);
    try {
      const output = await execution.result;
      record.status = 'SUCCEEDED';
      record.output = JSON.stringify(output);
    } catch (err) {
      const e = err as Error;
      if (timedOut) record.status = 'TIMED_OUT';
      else if (e.name === 'ExecutionAbortedError') record.status = 'ABORTED';
      else if (e.name === 'ExecutionTimeoutError') record.status = 'TIMED_OUT';
      else record.status = 'FAILED';
    } finally {
      clock?.cancel();
    }
    await collecting;
    const failed = record.events.find((ev) => ev.type === 'ExecutionFailed') as
      | { executionFailedEventDetails?: { error?: string; cause?: string } }
      | undefined;
    if (failed?.executionFailedEventDetails) {
      record.error = failed.executionFailedEventDetails.error;
      record.cause = failed.executionFailedEventDetails.cause;
    }
    if (timedOut) {
      record.error = 'States.Timeout';
      record.cause = `The execution ran longer than its TimeoutSeconds (${this.executionTimeoutSeconds} s).`;
    }
    if (record.status === 'ABORTED' && this.stopping) {
      // Not a StopExecution: the runtime itself is going away. Fail it and say so.
      record.events = record.events.filter((ev) => ev.type !== 'ExecutionAborted');
      failAsInterrupted(
        record,
        LOCAL_RUNTIME_ERRORS.stopped,
        `mlcycle up was stopped while this execution was running${atState(record)}; executions do not survive a restart of the local runtime, so it was failed: nothing it was doing takes effect (approval requests are closed, nothing deploys). Start it again if it is still wanted.`,
      );
    }
    const reason = this.stopReasons.get(record.executionArn);
    this.stopReasons.delete(record.executionArn);
    if (record.status === 'ABORTED' && reason) {
      if (reason.error) record.error = reason.error;
      if (reason.cause) record.cause = reason.cause;
    }
    record.stopDate ??= Date.now();
    record.endNotified = false;
    for (const [t, pending] of this.tokens) {
      if (pending.executionArn !== record.executionArn) continue;
      // An execution that ended (stopped, aborted on shutdown) settles its waits, so their
      // timeout timers are cleared and nothing keeps the process alive for days.
      if (pending.state === 'waiting')
        pending.reject?.(new Error('the execution ended while this task waited'));
      this.tokens.delete(t);
    }
    this.aborts.delete(record.executionArn);
    this.halted.delete(record.executionArn);
    this.persist(record);
    await this.notifyEnded(record);
  }

  private async collect(record: ExecutionRecord, logs: AsyncGenerator<EventLog>): Promise<void> {
    for await (const log of logs) {
      const event = toHistoryEvent(log, record.events.length + 1);
      if (!event) continue;
      record.events.push(event);
      this.persist(record);
      this.options.onEvent?.(record, event);
    }
  }

  /**
   * One override per Task state, chosen by its Resource, not by its name; the states of a Map's
   * iterations (allTaskStates) too. The library hands every task the execution's one
   * `$$.Task.Token`; each task invocation here gets its own token instead (the execution's is
   * replaced in its parameters), as Step Functions gives one per task, so the trials of a Map
   * that wait at the same time are completed each by its own job.
   */
  private overridesFor(
    executionArn: string,
    token: string,
  ): Record<string, (input: unknown) => Promise<unknown>> {
    const overrides: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const [name, state] of allTaskStates(this.options.definition.States)) {
      if (!state.Resource) continue;
      const resource = state.Resource;
      let run: (input: unknown, taskToken: string) => Promise<unknown>;
      if (resource.startsWith('arn:aws:lambda:')) {
        run = (input) => this.options.runner.lambda(resource, input);
      } else if (resource === 'arn:aws:states:::lambda:invoke.waitForTaskToken') {
        run = (input, taskToken) =>
          this.waitForToken(executionArn, taskToken, async () => {
            const params = input as Record<string, unknown>;
            await this.options.runner.invokeAsync(String(params.FunctionName), params.Payload);
          });
      } else if (resource === BATCH_JOB_RESOURCE) {
        run = (input, taskToken) =>
          this.waitForToken(executionArn, taskToken, () => this.options.runner.submitBatchJob(input));
      } else {
        throw new Error(`state ${name}: resource ${resource} has no local implementation`);
      }
      const path = this.timeoutPaths[name];
      const carried = state.Parameters !== undefined;
      overrides[name] = (input) => {
        if (this.halted.has(executionArn) || this.executions.get(executionArn)?.status !== 'RUNNING') {
          return Promise.reject(new Error(`the execution ended: ${name} does not start`));
        }
        const { seconds, params } = path
          ? taskTimeout(path, input, carried)
          : { seconds: undefined, params: input };
        const taskToken = `${token}:${randomUUID().slice(0, 8)}`;
        const work = run(replaceToken(params, token, taskToken), taskToken);
        // The library races tasks against timeouts and aborts; a task that loses the race
        // still settles later, and must not surface as an unhandled rejection.
        work.catch(() => undefined);
        return path ? withTimeout(work, seconds, () => this.expireToken(taskToken)) : work;
      };
    }
    return overrides;
  }

  private expireToken(token: string): void {
    const pending = this.tokens.get(token);
    if (pending?.state === 'waiting') pending.state = 'timed-out';
  }

  /** A `.waitForTaskToken` task: `start` hands the token on; SendTaskSuccess/Failure ends the wait. */
  private async waitForToken(executionArn: string, token: string, start: () => Promise<unknown>) {
    const result = new Promise<unknown>((resolve, reject) => {
      this.tokens.set(token, { executionArn, state: 'waiting', resolve, reject });
    });
    try {
      await start();
    } catch (err) {
      this.tokens.delete(token);
      throw err;
    }
    try {
      return await result;
    } finally {
      const pending = this.tokens.get(token);
      if (pending?.state === 'waiting') pending.state = 'timed-out';
    }
  }

  private pending(token: string): PendingToken {
    if (!token.startsWith('local:'))
      throw new SfnApiError('InvalidToken', 'not a task token of this runtime');
    const pending = this.tokens.get(token);
    if (!pending) throw new SfnApiError('TaskDoesNotExist', 'no task is waiting for this token');
    if (pending.state === 'timed-out') throw new SfnApiError('TaskTimedOut', 'the task already timed out');
    if (pending.state === 'done') throw new SfnApiError('TaskDoesNotExist', 'the task was already completed');
    return pending;
  }

  sendTaskSuccess(token: string, output: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(output);
    } catch {
      throw new SfnApiError('InvalidExecutionInput', 'task output is not valid JSON');
    }
    const pending = this.pending(token);
    pending.state = 'done';
    pending.resolve?.(parsed);
  }

  sendTaskFailure(token: string, error = '', cause = ''): void {
    const pending = this.pending(token);
    pending.state = 'done';
    pending.reject?.(new TaskCallbackError(error || 'States.TaskFailed', cause));
  }

  /** StopExecution: the error and cause given are the stopped execution's (as on AWS). */
  stopExecution(executionArn: string, error?: string, cause?: string): void {
    const abort = this.aborts.get(executionArn);
    if (!abort) throw new SfnApiError('ExecutionDoesNotExist', `${executionArn} is not running`);
    if (error || cause) this.stopReasons.set(executionArn, { error: error ?? '', cause: cause ?? '' });
    this.halted.add(executionArn);
    abort();
  }

  describe(executionArn: string): ExecutionRecord {
    const record = this.executions.get(executionArn);
    if (!record) throw new SfnApiError('ExecutionDoesNotExist', `execution ${executionArn} does not exist`);
    return record;
  }

  list(): ExecutionRecord[] {
    return [...this.executions.values()].sort((a, b) => b.startDate - a.startDate);
  }

  /** Resolves when the execution has finished (for tests and the demo). */
  async settled(executionArn: string): Promise<ExecutionRecord> {
    await this.running.get(executionArn);
    return this.describe(executionArn);
  }

  /**
   * Shutdown: fails whatever still runs (mlcycle.LocalRuntimeStopped, the ended-execution hook
   * closing what each left open), and waits for it.
   */
  async stopAll(): Promise<void> {
    this.stopping = true;
    for (const [executionArn, abort] of this.aborts) {
      this.halted.add(executionArn);
      abort();
    }
    await Promise.allSettled(this.running.values());
  }
}

/** Every Task state of a definition, with those of its Map states' iterations (names are unique across both). */
function allTaskStates(states: Record<string, AslState>): [string, AslState][] {
  return Object.entries(states).flatMap(([name, state]): [string, AslState][] => {
    if (state.Type === 'Task') return [[name, state]];
    const processor = (state.ItemProcessor ?? state.Iterator) as AslDefinition | undefined;
    return state.Type === 'Map' && processor ? allTaskStates(processor.States) : [];
  });
}

/** The parameters with every occurrence of the execution's token replaced by the task's own. */
function replaceToken(value: unknown, from: string, to: string): unknown {
  if (value === from) return to;
  if (Array.isArray(value)) return value.map((v) => replaceToken(v, from, to));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceToken(v, from, to)]));
  }
  return value;
}

import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type SFNClient,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';

/** What the pipeline reads about one execution of the lifecycle. */
export interface ExecutionDescription {
  readonly executionArn: string;
  /** RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED (or PENDING_REDRIVE). */
  readonly status: string;
  readonly error?: string;
  readonly cause?: string;
  /** The execution input (JSON text), when Step Functions returned it. */
  readonly input?: string;
  readonly stopDate?: Date;
}

type Json = Record<string, unknown>;

function parseObject(text: unknown): Json | undefined {
  if (typeof text !== 'string' || !text.startsWith('{')) return undefined;
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined;
  } catch {
    return undefined;
  }
}

/** Reads executions of the lifecycle state machine: their status, and the state they ended with. */
export class Executions {
  constructor(private readonly sfn: Pick<SFNClient, 'send'>) {}

  /** Undefined when Step Functions has no such execution (ExecutionDoesNotExist). */
  async describe(executionArn: string): Promise<ExecutionDescription | undefined> {
    try {
      const out = await this.sfn.send(new DescribeExecutionCommand({ executionArn }));
      return {
        executionArn,
        status: out.status ?? 'RUNNING',
        ...(out.error ? { error: out.error } : {}),
        ...(out.cause ? { cause: out.cause } : {}),
        ...(out.input ? { input: out.input } : {}),
        ...(out.stopDate ? { stopDate: out.stopDate } : {}),
      };
    } catch (err) {
      if ((err as Error).name === 'ExecutionDoesNotExist') return undefined;
      throw err;
    }
  }

  /**
   * Stops a running execution with an error and a cause (what DescribeExecution and the
   * execution-ended event then carry). False when there is no such execution running (it ended,
   * or never existed): Step Functions answers ExecutionDoesNotExist.
   */
  async stop(executionArn: string, error: string, cause: string): Promise<boolean> {
    try {
      await this.sfn.send(
        new StopExecutionCommand({ executionArn, error: error.slice(0, 256), cause: cause.slice(0, 32_768) }),
      );
      return true;
    } catch (err) {
      if ((err as Error).name === 'ExecutionDoesNotExist') return false;
      throw err;
    }
  }

  /**
   * The lifecycle state as far as the execution got: the newest state input or output in its
   * history that is a lifecycle state (an object naming the model) — so it carries `run`,
   * `registration`, `failureKind`… whatever the states before had added. Undefined when the
   * history holds none (e.g. it was too large to be included).
   */
  async lastState(executionArn: string): Promise<Json | undefined> {
    let nextToken: string | undefined;
    do {
      const page = await this.sfn.send(
        new GetExecutionHistoryCommand({
          executionArn,
          reverseOrder: true,
          includeExecutionData: true,
          maxResults: 100,
          ...(nextToken ? { nextToken } : {}),
        }),
      );
      for (const event of page.events ?? []) {
        const state =
          parseObject(event.stateExitedEventDetails?.output) ??
          parseObject(event.stateEnteredEventDetails?.input);
        if (typeof state?.model === 'string') return state;
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return undefined;
  }
}

import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  type SFNClient,
} from '@aws-sdk/client-sfn';

export interface StateTiming {
  readonly name: string;
  readonly type: string;
  readonly enteredAt: Date;
  readonly exitedAt?: Date;
  readonly durationMs?: number;
}

/**
 * Pairs StateEntered/StateExited events into one row per state visit, fed incrementally: each
 * `add` returns what changed (a visit entered, a visit left).
 */
export class StateTracker {
  readonly rows: StateTiming[] = [];
  private readonly open = new Map<string, number>();

  add(events: readonly HistoryEvent[]): { timing: StateTiming; phase: 'entered' | 'exited' }[] {
    const changes: { timing: StateTiming; phase: 'entered' | 'exited' }[] = [];
    for (const e of events) {
      const type = e.type ?? '';
      if (type.endsWith('StateEntered') && e.stateEnteredEventDetails?.name) {
        const name = e.stateEnteredEventDetails.name;
        this.open.set(name, this.rows.length);
        const row = { name, type: type.replace('StateEntered', ''), enteredAt: e.timestamp ?? new Date(0) };
        this.rows.push(row);
        changes.push({ timing: row, phase: 'entered' });
      } else if (type.endsWith('StateExited') && e.stateExitedEventDetails?.name) {
        const i = this.open.get(e.stateExitedEventDetails.name);
        const row = i === undefined ? undefined : this.rows[i];
        if (i !== undefined && row) {
          const exitedAt = e.timestamp ?? new Date(0);
          const done = { ...row, exitedAt, durationMs: exitedAt.getTime() - row.enteredAt.getTime() };
          this.rows[i] = done;
          changes.push({ timing: done, phase: 'exited' });
        }
      }
    }
    return changes;
  }
}

/** Pairs StateEntered/StateExited events into one row per state visit. */
export function stateTimings(events: readonly HistoryEvent[]): StateTiming[] {
  const tracker = new StateTracker();
  tracker.add(events);
  return tracker.rows;
}

/** The whole history, oldest first (for `pipeline status`, which reads it once). */
export async function history(sfn: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 1000 }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/** The most events GetExecutionHistory returns in one page. */
const MAX_PAGE = 1000;

/**
 * The events after `afterId`, oldest first. History event ids count up from 1 without gaps, so
 * the newest event alone says how many are new: a quiet poll reads one event, a busy one reads
 * exactly the new ones, however long the execution's history has grown.
 */
export async function eventsAfter(
  sfn: SFNClient,
  executionArn: string,
  afterId: number,
): Promise<HistoryEvent[]> {
  const head = await sfn.send(
    new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 1 }),
  );
  const newestId = head.events?.[0]?.id ?? 0;
  if (newestId <= afterId) return [];
  if (newestId === afterId + 1) return head.events ?? [];
  const newer: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new GetExecutionHistoryCommand({
        executionArn,
        reverseOrder: true,
        maxResults: Math.min(MAX_PAGE, newestId - afterId),
        nextToken,
      }),
    );
    for (const e of page.events ?? []) {
      if ((e.id ?? 0) <= afterId) return newer.reverse();
      newer.push(e);
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return newer.reverse();
}

const TERMINAL_EVENTS = new Set([
  'ExecutionSucceeded',
  'ExecutionFailed',
  'ExecutionTimedOut',
  'ExecutionAborted',
]);

export interface WatchOptions {
  /** Called once when a state is entered and once when it is left. */
  readonly onState?: (timing: StateTiming, phase: 'entered' | 'exited') => void | Promise<void>;
  /**
   * Interval of the first poll, and again after a poll that found something.
   * @default 400
   */
  readonly pollMs?: number;
  /**
   * Longest interval between polls: while nothing happens (a GPU job runs, approvers think) the
   * interval grows by half each poll up to this.
   * @default 15_000
   */
  readonly maxPollMs?: number;
  /**
   * Give up after this long. An execution ends by its own timeouts (the Train budget, the
   * approval wait, the execution's), so by default the watch lasts as long as the execution.
   * @default - no limit
   */
  readonly timeoutMs?: number;
}

/**
 * Follows an execution through its history until it ends, reporting each state as it is
 * entered and left. Each poll reads only the events it has not seen; polls slow down while
 * nothing happens and speed up again when something does. Works against AWS and the embedded
 * default alike (same API).
 */
export async function watchExecution(
  sfn: SFNClient,
  executionArn: string,
  options: WatchOptions = {},
): Promise<DescribeExecutionCommandOutput> {
  const minPoll = options.pollMs ?? 400;
  const maxPoll = Math.max(minPoll, options.maxPollMs ?? 15_000);
  const deadline = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs;
  const tracker = new StateTracker();
  let lastId = 0;
  let interval = minPoll;
  for (;;) {
    const events = await eventsAfter(sfn, executionArn, lastId);
    for (const { timing, phase } of tracker.add(events)) await options.onState?.(timing, phase);
    lastId = events.reduce((max, e) => Math.max(max, e.id ?? 0), lastId);
    // The status comes from the history while it moves; when it is quiet, DescribeExecution also
    // catches an end that left no event (the local runtime restarting under an execution).
    if (events.some((e) => TERMINAL_EVENTS.has(e.type ?? '')) || events.length === 0) {
      const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      if (described.status !== 'RUNNING') {
        // Events written between the two reads are still reported.
        const late = await eventsAfter(sfn, executionArn, lastId);
        for (const { timing, phase } of tracker.add(late)) await options.onState?.(timing, phase);
        return described;
      }
    }
    if (deadline !== undefined && Date.now() > deadline)
      throw new Error(`execution ${executionArn} still running after the watch timeout`);
    interval = events.length ? minPoll : Math.min(maxPoll, Math.round(interval * 1.5));
    await new Promise((r) => setTimeout(r, interval));
  }
}

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

/** Pairs StateEntered/StateExited events into one row per state visit. */
export function stateTimings(events: readonly HistoryEvent[]): StateTiming[] {
  const rows: StateTiming[] = [];
  const open = new Map<string, number>();
  for (const e of events) {
    const type = e.type ?? '';
    if (type.endsWith('StateEntered') && e.stateEnteredEventDetails?.name) {
      const name = e.stateEnteredEventDetails.name;
      open.set(name, rows.length);
      rows.push({ name, type: type.replace('StateEntered', ''), enteredAt: e.timestamp ?? new Date(0) });
    } else if (type.endsWith('StateExited') && e.stateExitedEventDetails?.name) {
      const i = open.get(e.stateExitedEventDetails.name);
      const row = i === undefined ? undefined : rows[i];
      if (i !== undefined && row) {
        const exitedAt = e.timestamp ?? new Date(0);
        rows[i] = { ...row, exitedAt, durationMs: exitedAt.getTime() - row.enteredAt.getTime() };
      }
    }
  }
  return rows;
}

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

export interface WatchOptions {
  /** Called once when a state is entered and once when it is left. */
  readonly onState?: (timing: StateTiming, phase: 'entered' | 'exited') => void | Promise<void>;
  readonly pollMs?: number;
  readonly timeoutMs?: number;
}

/**
 * Follows an execution through its history until it ends, reporting each state as it is
 * entered and left. Works against AWS and the embedded default alike (same API).
 */
export async function watchExecution(
  sfn: SFNClient,
  executionArn: string,
  options: WatchOptions = {},
): Promise<DescribeExecutionCommandOutput> {
  const seen = new Map<number, 'entered' | 'exited'>();
  const deadline = Date.now() + (options.timeoutMs ?? 24 * 3600_000);
  for (;;) {
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    const timings = stateTimings(await history(sfn, executionArn));
    for (const [i, t] of timings.entries()) {
      const phase = t.exitedAt ? 'exited' : 'entered';
      const before = seen.get(i);
      if (before === phase) continue;
      if (!before) await options.onState?.(t, 'entered');
      if (phase === 'exited') await options.onState?.(t, 'exited');
      seen.set(i, phase);
    }
    if (described.status !== 'RUNNING') return described;
    if (Date.now() > deadline)
      throw new Error(`execution ${executionArn} still running after the watch timeout`);
    await new Promise((r) => setTimeout(r, options.pollMs ?? 400));
  }
}

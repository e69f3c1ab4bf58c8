import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type GetExecutionHistoryCommandInput,
  type HistoryEvent,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type StateTiming, watchExecution } from '../../bin/cli/execution-watch.js';

/**
 * `pipeline start --wait` and `models promote --wait` follow an execution that may wait days
 * for approvers. The Step Functions client is stubbed at the SDK boundary with a history that
 * grows with (fake) time, answering GetExecutionHistory as AWS does (order, pages, tokens).
 */

const ARN = 'arn:aws:states:us-east-1:123456789012:execution:mlcycle-lifecycle:run';
const HOUR = 3600_000;
const sfnMock = mockClient(SFNClient);
const sfn = new SFNClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });

interface Scripted {
  readonly atMs: number;
  readonly type: string;
  readonly state?: string;
}

/**
 * A run that trains for an hour, then waits `approvalHours` at Approve, then deploys. The Train
 * task reports 300 events while it starts (a long history, as sweeps and retries make).
 */
function script(approvalHours: number): Scripted[] {
  const approved = HOUR + approvalHours * HOUR;
  return [
    { atMs: 0, type: 'ExecutionStarted' },
    { atMs: 100, type: 'TaskStateEntered', state: 'Train' },
    ...Array.from({ length: 300 }, (_, i) => ({ atMs: 200 + i * 10, type: 'TaskSubmitted' })),
    { atMs: HOUR, type: 'TaskStateExited', state: 'Train' },
    { atMs: HOUR + 100, type: 'TaskStateEntered', state: 'Approve' },
    { atMs: approved, type: 'TaskStateExited', state: 'Approve' },
    { atMs: approved + 100, type: 'TaskStateEntered', state: 'Deploy' },
    { atMs: approved + 2000, type: 'TaskStateExited', state: 'Deploy' },
    { atMs: approved + 2100, type: 'ExecutionSucceeded' },
  ];
}

let calls: { at: number; input: GetExecutionHistoryCommandInput; returned: number }[];
let start: number;

function simulate(events: Scripted[], status: () => string = () => '') {
  const history = (): HistoryEvent[] =>
    events
      .filter((e) => start + e.atMs <= Date.now())
      .map((e, i) => ({
        id: i + 1,
        type: e.type as HistoryEvent['type'],
        timestamp: new Date(start + e.atMs),
        ...(e.state && e.type.endsWith('Entered') ? { stateEnteredEventDetails: { name: e.state } } : {}),
        ...(e.state && e.type.endsWith('Exited') ? { stateExitedEventDetails: { name: e.state } } : {}),
      }));
  sfnMock.on(GetExecutionHistoryCommand).callsFake((input: GetExecutionHistoryCommandInput) => {
    const visible = history();
    const ordered = input.reverseOrder ? [...visible].reverse() : visible;
    const from = input.nextToken ? Number(input.nextToken) : 0;
    const size = input.maxResults || 100;
    const page = ordered.slice(from, from + size);
    calls.push({ at: Date.now(), input, returned: page.length });
    return { events: page, nextToken: from + size < ordered.length ? String(from + size) : undefined };
  });
  sfnMock.on(DescribeExecutionCommand).callsFake(() => {
    const visible = history();
    const ended = visible.some((e) => e.type === 'ExecutionSucceeded');
    return { executionArn: ARN, status: status() || (ended ? 'SUCCEEDED' : 'RUNNING') };
  });
}

/** Runs the watch to its end, advancing fake time in steps. */
async function watchToEnd(options: Parameters<typeof watchExecution>[2] = {}) {
  let settled = false;
  const result = watchExecution(sfn, ARN, options).finally(() => {
    settled = true;
  });
  result.catch(() => undefined);
  for (let i = 0; i < 10_000 && !settled; i++) await vi.advanceTimersByTimeAsync(60_000);
  return result;
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  sfnMock.reset();
  calls = [];
  start = Date.now();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('watchExecution', () => {
  it('reports each state once when entered and once when left, in order', async () => {
    simulate(script(2));
    const seen: string[] = [];
    const final = await watchToEnd({
      onState: (t: StateTiming, phase) => {
        seen.push(`${phase} ${t.name}${phase === 'exited' ? ` ${t.durationMs}` : ''}`);
      },
    });
    expect(final.status).toBe('SUCCEEDED');
    expect(seen).toEqual([
      'entered Train',
      `exited Train ${HOUR - 100}`,
      'entered Approve',
      `exited Approve ${2 * HOUR - 100}`,
      'entered Deploy',
      'exited Deploy 1900',
    ]);
  });

  it('reads only the events it has not seen, newest first, never the whole history again', async () => {
    const events = script(2);
    simulate(events);
    await watchToEnd();
    expect(calls.length).toBeGreaterThan(10);
    for (const c of calls) expect(c.input.reverseOrder).toBe(true);
    // A quiet poll reads one event; every event is read once more at most.
    const transferred = calls.reduce((n, c) => n + c.returned, 0);
    expect(transferred).toBeLessThanOrEqual(2 * events.length + calls.length);
    expect(Math.max(...calls.slice(1).map((c) => c.returned))).toBeLessThan(events.length);
  });

  it('slows down to one poll every 15 s while nothing happens, and speeds up when something does', async () => {
    simulate(script(2));
    await watchToEnd();
    // A poll is the requests made at one instant (the newest event, then any new ones).
    const polls = [...new Set(calls.map((c) => c.at))];
    const gaps = polls.slice(1).map((at, i) => at - (polls[i] ?? 0));
    expect(Math.max(...gaps)).toBeLessThanOrEqual(15_000);
    expect(gaps.filter((g) => g === 15_000).length).toBeGreaterThan(100);
    // Two hours at Approve cost a few hundred polls, not 18,000 (one every 400 ms).
    expect(polls.length).toBeLessThan(1500);
    // The poll after the one that saw training end comes at the short interval again.
    const after = polls.findIndex((at) => at >= start + HOUR);
    expect((polls[after + 1] ?? 0) - (polls[after] ?? 0)).toBe(400);
  });

  it('does not give up while approvals wait longer than a day (72 h and more)', async () => {
    simulate(script(30));
    const final = await watchToEnd();
    expect(final.status).toBe('SUCCEEDED');
    expect(Date.now() - start).toBeGreaterThan(30 * HOUR);
  });

  it('still stops after an explicit timeoutMs', async () => {
    simulate(script(30));
    await expect(watchToEnd({ timeoutMs: 2 * HOUR })).rejects.toThrow(
      /still running after the watch timeout/,
    );
  });

  it('notices an execution that ended without a history event (the local runtime restarted)', async () => {
    let aborted = false;
    simulate(script(30), () => (aborted ? 'ABORTED' : ''));
    setTimeout(() => {
      aborted = true;
    }, 2 * HOUR);
    const final = await watchToEnd();
    expect(final.status).toBe('ABORTED');
    expect(Date.now() - start).toBeLessThanOrEqual(2 * HOUR + 2 * 60_000);
  });
});

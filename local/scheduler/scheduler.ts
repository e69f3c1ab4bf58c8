import { randomUUID } from 'node:crypto';
import type { MlcycleConfig } from '../../lambdas/contracts/config-schema.js';
import { HANDLERS, type HandlerContract, type HandlerName } from '../../lambdas/contracts/handlers.js';
import { kebab, scheduleRuleName } from '../../lambdas/contracts/names.js';
import { nextFireTime } from '../../lambdas/domain/pipeline/schedule-expression.js';
import { LOCAL_ACCOUNT, LOCAL_REGION } from '../emulators/local-aws.js';

export interface ScheduledJob {
  readonly name: string;
  readonly expression: string;
  readonly run: () => Promise<void>;
  /** Frequent jobs: no "fired" line each time (the job logs what it did, if anything). */
  readonly quiet?: boolean;
}

/**
 * The EventBridge rules of the stack, on the laptop: each job fires at its next time, then is
 * rescheduled. Timers are unref'd so they never keep a finished process alive.
 */
export class LocalScheduler {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly jobs: readonly ScheduledJob[],
    private readonly log: (line: string) => void,
    private readonly now: () => Date = () => new Date(),
  ) {}

  start(): { name: string; expression: string; next: Date }[] {
    return this.jobs.map((job) => ({ name: job.name, expression: job.expression, next: this.arm(job) }));
  }

  private arm(job: ScheduledJob): Date {
    const next = nextFireTime(job.expression, this.now());
    // setTimeout's limit is ~24.8 days; re-arm in steps for longer waits.
    const wait = Math.min(next.getTime() - Date.now(), 2 ** 31 - 1);
    const timer = setTimeout(async () => {
      if (Date.now() >= next.getTime()) {
        if (!job.quiet) this.log(`schedule ${job.name} fired (${job.expression})`);
        await job.run().catch((err: Error) => this.log(`schedule ${job.name} failed: ${err.message}`));
      }
      this.arm(job);
    }, wait);
    timer.unref();
    this.timers.set(job.name, timer);
    return next;
  }

  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}

/** The retrain schedules and the daily cleanup, as the CDK stack declares them. */
export function scheduledJobNames(config: MlcycleConfig): { model: string; expression: string }[] {
  return Object.entries(config.models)
    .filter(([, m]) => m.schedule.enabled)
    .map(([model, m]) => ({ model, expression: m.schedule.retrain }));
}

/** The event an EventBridge schedule rule delivers to its Lambda target. */
export function scheduledEvent(ruleName: string, at: Date) {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: LOCAL_ACCOUNT,
    time: `${at.toISOString().slice(0, 19)}Z`,
    region: LOCAL_REGION,
    resources: [`arn:aws:events:${LOCAL_REGION}:${LOCAL_ACCOUNT}:rule/${ruleName}`],
    detail: {},
  };
}

/** A scheduled handler's result lists what it acted on; all lists empty means it found nothing to do. */
function didSomething(result: unknown): boolean {
  if (!result || typeof result !== 'object') return true;
  const lists = Object.values(result).filter(Array.isArray);
  return lists.length === 0 || lists.some((l) => l.length > 0);
}

/**
 * The handlers whose contract has a `schedule` (cleanup, approval reminders, the reconciler), as the stack's rules run
 * them: the same handler, the same expression, EventBridge's scheduled event. A run that did
 * something logs its result.
 */
export function contractScheduleJobs(
  project: string,
  invoke: (name: HandlerName, event: unknown) => Promise<unknown>,
  log: (line: string) => void,
  now: () => Date = () => new Date(),
): ScheduledJob[] {
  return (Object.entries(HANDLERS) as [HandlerName, HandlerContract][]).flatMap(([name, contract]) => {
    if (!contract.schedule) return [];
    const job = kebab(name);
    return [
      {
        name: job,
        expression: contract.schedule,
        quiet: true,
        run: async () => {
          const result = await invoke(name, scheduledEvent(scheduleRuleName(project, name), now()));
          if (didSomething(result)) log(`${job}: ${JSON.stringify(result)}`);
        },
      },
    ];
  });
}

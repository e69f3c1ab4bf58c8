import type { MlcycleConfig } from '../../lambdas/contracts/config-schema.js';
import { nextFireTime } from './schedule-expression.js';

export interface ScheduledJob {
  readonly name: string;
  readonly expression: string;
  readonly run: () => Promise<void>;
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

  start(): { name: string; next: Date }[] {
    return this.jobs.map((job) => ({ name: job.name, next: this.arm(job) }));
  }

  private arm(job: ScheduledJob): Date {
    const next = nextFireTime(job.expression, this.now());
    // setTimeout's limit is ~24.8 days; re-arm in steps for longer waits.
    const wait = Math.min(next.getTime() - Date.now(), 2 ** 31 - 1);
    const timer = setTimeout(async () => {
      if (Date.now() >= next.getTime()) {
        this.log(`schedule ${job.name} fired (${job.expression})`);
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

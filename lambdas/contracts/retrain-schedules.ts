import { z } from 'zod';
import type { MlcycleConfig } from './config-schema.js';

/** What each model's retrain rule sends to the scheduledRetrain function (the rule's target input). */
export const scheduledRetrainEventSchema = z.object({ model: z.string().min(1) });
export type ScheduledRetrainEvent = z.infer<typeof scheduledRetrainEventSchema>;

/** One model's scheduled retrain, as the stack's EventBridge rule and the local scheduler both run it. */
export interface RetrainSchedule {
  readonly model: string;
  /** EventBridge schedule expression, e.g. `cron(0 3 ? * MON *)`. */
  readonly expression: string;
  /** The stage the retrain targets (the function reads it from the deployed config). */
  readonly stage: string;
  /** `<project>-retrain-<model>`. */
  readonly ruleName: string;
  readonly event: ScheduledRetrainEvent;
}

/** The retrains a config schedules: one per model whose `schedule.enabled` is on. */
export function retrainSchedules(config: Pick<MlcycleConfig, 'project' | 'models'>): RetrainSchedule[] {
  return Object.entries(config.models)
    .filter(([, m]) => m.schedule.enabled)
    .map(([model, m]) => ({
      model,
      expression: m.schedule.retrain,
      stage: m.schedule.stage,
      ruleName: `${config.project}-retrain-${model}`,
      event: { model },
    }));
}

import type { S3Event, S3EventRecord } from 'aws-lambda';
import type { HandlerName } from '../lambdas/contracts/handlers.js';
import { matchesRule, type NotificationRule } from '../lambdas/contracts/notifications.js';
import type { LocalLambdas } from './lambdas.js';

/**
 * Delivers s3rver's object events to the handlers the way S3 → Lambda does: only
 * ObjectCreated events matching a rule's prefix/suffix (the stack's rules, from
 * lambdas/contracts/notifications.ts; filters applied here, since s3rver has none),
 * asynchronously, retried twice on error like an async Lambda invocation.
 */
export class LocalS3Notifications {
  private readonly inFlight = new Set<Promise<void>>();
  readonly failures: { key: string; handler: HandlerName; error: string }[] = [];

  constructor(
    private readonly lambdas: Pick<LocalLambdas, 'invoke'>,
    /** The rules it applies (the stack's: lambdas/contracts/notifications.ts). */
    readonly rules: readonly NotificationRule[],
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  deliver(record: S3EventRecord): void {
    if (!record.eventName.startsWith('ObjectCreated:')) return;
    const key = decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '));
    for (const rule of this.rules) {
      if (!matchesRule(rule, key)) continue;
      const task = this.invoke(rule.handler, { Records: [record] }, key).finally(() =>
        this.inFlight.delete(task),
      );
      this.inFlight.add(task);
    }
  }

  private async invoke(handler: HandlerName, event: S3Event, key: string): Promise<void> {
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        await this.lambdas.invoke(handler, event);
        this.log(`s3 event ${key} → ${handler}: ok`);
        return;
      } catch (err) {
        const message = (err as Error).message;
        this.log(`s3 event ${key} → ${handler}: attempt ${attempt} failed: ${message}`);
        if (attempt === 3) this.failures.push({ key, handler, error: message });
        else await new Promise((r) => setTimeout(r, 500 * attempt));
      }
    }
  }

  /** Resolves once every delivered event has been handled. */
  async idle(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }
}

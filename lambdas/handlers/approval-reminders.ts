import { z } from 'zod';
import { ApprovalStore } from '../adapters/approval/approval-store.js';
import { cachedSigningKey } from '../adapters/approval/signing-key.js';
import { createDocumentClient } from '../adapters/aws-clients.js';
import { mailerFromEnv } from '../adapters/notifier.js';
import { ENV } from '../contracts/env.js';
import type { ApprovalMailDeps } from '../services/approvals/mail.js';
import { sendReminders } from '../services/approvals/remind.js';
import { correlationIds, lambdaHandler } from './kit/lambda.js';
import { createLogger, once, parseInput, readEnv } from './kit/runtime.js';
import { scheduledEventSchema } from './kit/scheduled-event.js';
import { keySourceFrom, signingKeyEnvSchema } from './kit/signing-key-env.js';

const logger = createLogger('approval-reminders');

export interface ApprovalRemindersDeps extends ApprovalMailDeps {
  readonly clock?: () => Date;
}

/**
 * Runs on a schedule: emails a reminder, once per pending request inside its reminder window,
 * to each approver who has not decided yet (see services/approvals/remind.ts).
 */
export function makeApprovalRemindersHandler(deps: () => ApprovalRemindersDeps) {
  return lambdaHandler(
    logger,
    correlationIds.scheduled,
    async (event: unknown): Promise<{ checkedAt: string; reminded: string[] }> => {
      const scheduled = parseInput(scheduledEventSchema, event, 'scheduled event');
      const d = deps();
      const now = (d.clock ?? (() => new Date()))();
      const reminded = await sendReminders(d, now);
      logger.info('approval reminders checked', {
        scheduledAt: scheduled.time,
        rule: scheduled.resources[0],
        reminded,
      });
      return { checkedAt: now.toISOString(), reminded };
    },
  );
}

const envSchema = z
  .object({
    [ENV.table]: z.string().min(1),
    [ENV.approvalBaseUrl]: z.url(),
    [ENV.emailSender]: z.string().min(1),
  })
  .and(signingKeyEnvSchema);

export const handler = makeApprovalRemindersHandler(
  once((): ApprovalRemindersDeps => {
    const env = readEnv(envSchema);
    return {
      store: new ApprovalStore(createDocumentClient(), env[ENV.table]),
      mailer: mailerFromEnv(),
      baseUrl: env[ENV.approvalBaseUrl],
      key: cachedSigningKey(keySourceFrom(env)),
    };
  }),
);

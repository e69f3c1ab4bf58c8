import { z } from 'zod';
import { createDocumentClient } from '../../adapters/aws-clients.js';
import { deployedConfig } from '../../adapters/deployed-config.js';
import { NoticeLog } from '../../adapters/notices/notice-log.js';
import { alertPublisherFromEnv } from '../../adapters/notifier.js';
import type { SlackLogger } from '../../adapters/slack.js';
import type { MlcycleConfig } from '../../contracts/config-schema.js';
import { ENV } from '../../contracts/env.js';
import type { NoticeDeps } from '../../services/notices/notify.js';
import type { StageNoticeDeps } from '../../services/notices/stage-notices.js';
import { readEnv } from './runtime.js';

/** The notice settings of the deployed config: its `notices` section and the Slack webhook of its alerts. */
export function noticeConfig(config: MlcycleConfig): ReturnType<NoticeDeps['config']> {
  const slackWebhookUrl = config.monitoring.alerts.slackWebhookUrl;
  return { notices: config.notices, ...(slackWebhookUrl ? { slackWebhookUrl } : {}) };
}

const noticeEnvSchema = z.object({
  [ENV.table]: z.string().min(1),
  [ENV.alertTopicArn]: z.string().min(1),
  [ENV.approvalBaseUrl]: z.string().url(),
  [ENV.clientBaseUrl]: z.string().url(),
});

/** What a handler that sends notices needs, from its deployed environment and config. */
export function noticeDepsFromEnv(logger: SlackLogger): StageNoticeDeps {
  const env = readEnv(noticeEnvSchema);
  return {
    notices: new NoticeLog(createDocumentClient(), env[ENV.table]),
    alerts: alertPublisherFromEnv(),
    config: () => noticeConfig(deployedConfig()),
    apiBaseUrl: env[ENV.approvalBaseUrl],
    clientBaseUrl: env[ENV.clientBaseUrl],
    logger,
  };
}

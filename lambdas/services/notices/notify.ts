import type { NoticeLog } from '../../adapters/notices/notice-log.js';
import type { AlertPublisher } from '../../adapters/notifier.js';
import { postToSlack, type SlackLogger } from '../../adapters/slack.js';
import type { NoticesConfig } from '../../contracts/config-notices.js';
import type { Notice } from '../../domain/notices/notice.js';
import { NOTICE_CHANNELS, type NoticeChannel, routeNotice } from '../../domain/notices/routing.js';

export interface NoticeDeps {
  readonly notices: Pick<NoticeLog, 'claim' | 'release' | 'markSent'>;
  /** The email channel: the alert topic (its subscriptions), an .eml in the outbox locally. */
  readonly alerts: AlertPublisher;
  /** The deployed config's notices section and the Slack webhook of monitoring.alerts. */
  readonly config: () => { readonly notices: NoticesConfig; readonly slackWebhookUrl?: string };
  readonly fetch?: typeof fetch;
  readonly logger?: SlackLogger;
  readonly clock?: () => Date;
}

/** What each channel did with a notice: `sent`, `failed` (Slack only), or why it was not sent. */
export type NoticeOutcome = Readonly<Record<NoticeChannel, string>>;

/**
 * Sends a notice once, whatever the number of deliveries of its event: the first delivery claims
 * it, sends it on the channels the config lets it through, and records what each did. An email
 * (alert topic) failure gives the claim back and throws, so the retried delivery sends it; a
 * Slack failure is recorded, not retried (the email already went). Null: sent or being sent by
 * another delivery.
 */
export async function notifyOnce(deps: NoticeDeps, notice: Notice): Promise<NoticeOutcome | null> {
  const claimed = await deps.notices.claim({
    noticeId: notice.id,
    kind: notice.kind,
    model: notice.model,
    subject: notice.subject,
  });
  if (!claimed) return null;
  const { notices: config, slackWebhookUrl } = deps.config();
  const route = routeNotice(
    notice.level,
    config,
    { slack: Boolean(slackWebhookUrl) },
    (deps.clock ?? (() => new Date()))(),
  );
  const outcome: Record<NoticeChannel, string> = { email: '', slack: '' };
  try {
    if (route.email.send) {
      await deps.alerts.publish({ subject: notice.subject, message: notice.text });
      outcome.email = 'sent';
    } else outcome.email = route.email.why;
  } catch (err) {
    await deps.notices.release(notice.id).catch(() => undefined);
    throw err;
  }
  if (route.slack.send && slackWebhookUrl) {
    outcome.slack = await postToSlack(
      {
        url: slackWebhookUrl,
        ...(deps.fetch ? { fetch: deps.fetch } : {}),
        ...(deps.logger ? { logger: deps.logger } : {}),
      },
      `${notice.subject}\n${notice.text}`,
      { notice: notice.id },
    );
  } else if (!route.slack.send) outcome.slack = route.slack.why;
  await deps.notices.markSent(notice.id, outcome);
  return Object.fromEntries(NOTICE_CHANNELS.map((c) => [c, outcome[c]])) as NoticeOutcome;
}

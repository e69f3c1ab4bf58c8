import { NOTICE_LEVELS, type NoticeLevel, type NoticesConfig } from '../../contracts/config-notices.js';

export const NOTICE_CHANNELS = ['email', 'slack'] as const;
export type NoticeChannel = (typeof NOTICE_CHANNELS)[number];

/** Whether a channel gets a notice, and if not, why (kept on the notice's record). */
export type ChannelDecision = { readonly send: true } | { readonly send: false; readonly why: string };

const rank = (level: NoticeLevel) => NOTICE_LEVELS.indexOf(level);
const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Minutes since midnight at `now` in a time zone. */
export function minuteOfDay(now: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(now);
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return part('hour') * 60 + part('minute');
}

/** Whether `now` falls in [from, to) local time; a span whose `from` is after `to` crosses midnight. */
export function inQuietHours(now: Date, q: { from: string; to: string; timeZone: string }): boolean {
  const m = minuteOfDay(now, q.timeZone);
  const [from, to] = [minutes(q.from), minutes(q.to)];
  return from < to ? m >= from && m < to : m >= from || m < to;
}

/**
 * Which channels get a notice of `level` at `now`: none when notices are off; a channel whose
 * minimum level is above it, no; in quiet hours, only at or above the quiet hours' level.
 * Configured channels only: Slack needs a webhook.
 */
export function routeNotice(
  level: NoticeLevel,
  config: NoticesConfig,
  channels: { readonly slack: boolean },
  now: Date,
): Record<NoticeChannel, ChannelDecision> {
  const quiet =
    config.quietHours &&
    inQuietHours(now, config.quietHours) &&
    rank(level) < rank(config.quietHours.minLevel)
      ? `held back: quiet hours ${config.quietHours.from}–${config.quietHours.to} ${config.quietHours.timeZone} let only ${config.quietHours.minLevel} notices through`
      : undefined;
  const decide = (channel: NoticeChannel, configured: boolean): ChannelDecision => {
    if (!config.enabled) return { send: false, why: 'notices are off (notices.enabled: false)' };
    if (!configured) return { send: false, why: 'no Slack webhook (monitoring.alerts.slackWebhookUrl)' };
    if (rank(level) < rank(config.minLevel[channel])) {
      return { send: false, why: `below notices.minLevel.${channel} (${config.minLevel[channel]})` };
    }
    return quiet ? { send: false, why: quiet } : { send: true };
  };
  return { email: decide('email', true), slack: decide('slack', channels.slack) };
}

import { z } from 'zod';

/**
 * How much a notice matters: `info` for what went as planned (a deploy, a skipped retrain, a
 * finished sweep or rollout), `warning` for what someone should look at (a rollback, an aborted
 * rollout). Failures are alerts, not notices: they always go out (monitoring.alerts).
 */
export const NOTICE_LEVELS = ['info', 'warning'] as const;
export type NoticeLevel = (typeof NOTICE_LEVELS)[number];

const level = z.enum(NOTICE_LEVELS);
const clock = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time of day as HH:MM (24-hour), e.g. 22:00');
const timeZone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en-GB', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be an IANA time zone such as Europe/Paris or UTC' },
);

/**
 * Notices that close the loop (`notices` in the config): what the platform did on its own or on
 * someone's request, told once per event on the alert topic (its email subscriptions) and the
 * Slack webhook of `monitoring.alerts`, each channel with its own minimum level, and quiet hours
 * in which only notices at or above `quietHours.minLevel` go out (the rest are recorded as held
 * back, with the reason, and not sent later: a deploy notice at 9:00 for a deploy at 3:00 is noise).
 */
export const noticesSchema = z.strictObject({
  /** Off: nothing is sent (events are still recorded). @default true */
  enabled: z.boolean().default(true),
  /** Per channel, the lowest level that is sent. */
  minLevel: z
    .strictObject({
      email: level.default('info'),
      slack: level.default('info'),
    })
    .prefault({}),
  /** Hours in which only notices at or above `minLevel` go out; `from` after `to` spans midnight. */
  quietHours: z
    .strictObject({
      from: clock,
      to: clock,
      timeZone: timeZone.default('UTC'),
      minLevel: level.default('warning'),
    })
    .refine((q) => q.from !== q.to, { message: 'from and to are equal: quiet hours need a span' })
    .optional(),
});
export type NoticesConfig = z.infer<typeof noticesSchema>;

import { CronExpressionParser } from 'cron-parser';
import { ValidationError } from '../errors.js';

const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const CRON = /^cron\((.+)\)$/;
const unitMs = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;

/**
 * Next fire time of an EventBridge schedule expression after `from` (UTC), for the local
 * scheduler. EventBridge cron has six fields (with a year) and numbers Sunday as 1, unlike
 * classic cron's 0: both are translated before parsing.
 */
export function nextFireTime(expression: string, from: Date): Date {
  const rate = RATE.exec(expression);
  if (rate) {
    const unit = (rate[2] as string).replace(/s$/, '') as keyof typeof unitMs;
    return new Date(from.getTime() + Number(rate[1]) * unitMs[unit]);
  }
  const cron = CRON.exec(expression);
  const fields = cron?.[1]?.trim().split(/\s+/);
  if (fields?.length !== 6) {
    throw new ValidationError(
      `schedule "${expression}" is not an EventBridge cron(...) with 6 fields or rate(...)`,
    );
  }
  const [minute, hour, dom, month, dow] = fields as [string, string, string, string, string];
  const classicDow = dow === '?' ? '*' : dow.replace(/\b([1-7])\b/g, (d) => String(Number(d) - 1));
  const classic = [minute, hour, dom === '?' ? '*' : dom, month, classicDow].join(' ');
  try {
    return CronExpressionParser.parse(classic, { currentDate: from, tz: 'UTC' }).next().toDate();
  } catch (err) {
    throw new ValidationError(`schedule "${expression}" cannot be parsed: ${(err as Error).message}`);
  }
}

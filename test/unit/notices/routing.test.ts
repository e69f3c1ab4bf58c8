import { describe, expect, it } from 'vitest';
import { noticesSchema } from '../../../lambdas/contracts/config-notices.js';
import { inQuietHours, minuteOfDay, routeNotice } from '../../../lambdas/domain/notices/routing.js';

const at = (iso: string) => new Date(iso);

describe('notice routing: per-channel minimum level and quiet hours', () => {
  it('sends info and warning on both configured channels by default', () => {
    const cfg = noticesSchema.parse({});
    expect(routeNotice('info', cfg, { slack: true }, at('2026-12-01T12:00:00Z'))).toEqual({
      email: { send: true },
      slack: { send: true },
    });
  });

  it('skips Slack without a webhook, and says where to set one', () => {
    const route = routeNotice(
      'warning',
      noticesSchema.parse({}),
      { slack: false },
      at('2026-12-01T12:00:00Z'),
    );
    expect(route.email).toEqual({ send: true });
    expect(route.slack).toEqual({ send: false, why: expect.stringContaining('slackWebhookUrl') });
  });

  it('holds back a level below a channel minimum, naming the setting', () => {
    const cfg = noticesSchema.parse({ minLevel: { email: 'warning' } });
    const route = routeNotice('info', cfg, { slack: true }, at('2026-12-01T12:00:00Z'));
    expect(route.email).toEqual({ send: false, why: 'below notices.minLevel.email (warning)' });
    expect(route.slack).toEqual({ send: true });
    expect(routeNotice('warning', cfg, { slack: true }, at('2026-12-01T12:00:00Z')).email).toEqual({
      send: true,
    });
  });

  it('in quiet hours across midnight in the configured zone, lets only the quiet level through', () => {
    const cfg = noticesSchema.parse({ quietHours: { from: '22:00', to: '07:00', timeZone: 'Europe/Paris' } });
    // 22:30 UTC is 23:30 in Paris (CET, UTC+1 in December): quiet.
    const night = routeNotice('info', cfg, { slack: true }, at('2026-12-01T22:30:00Z'));
    expect(night.email).toEqual({
      send: false,
      why: expect.stringContaining('quiet hours 22:00–07:00 Europe/Paris'),
    });
    expect(night.slack.send).toBe(false);
    expect(routeNotice('warning', cfg, { slack: true }, at('2026-12-01T22:30:00Z')).email).toEqual({
      send: true,
    });
    // 06:30 UTC is 07:30 in Paris: no longer quiet; 05:59 UTC is 06:59 there: quiet.
    expect(routeNotice('info', cfg, { slack: true }, at('2026-12-02T06:30:00Z')).email).toEqual({
      send: true,
    });
    expect(routeNotice('info', cfg, { slack: true }, at('2026-12-02T05:59:00Z')).email.send).toBe(false);
    // 21:30 UTC is 22:30 in Paris but 21:30 in UTC: the zone decides.
    expect(
      inQuietHours(at('2026-12-01T21:30:00Z'), { from: '22:00', to: '07:00', timeZone: 'Europe/Paris' }),
    ).toBe(true);
    expect(inQuietHours(at('2026-12-01T21:30:00Z'), { from: '22:00', to: '07:00', timeZone: 'UTC' })).toBe(
      false,
    );
  });

  it('follows daylight saving time (New York is UTC-4 in July, UTC-5 in December)', () => {
    expect(minuteOfDay(at('2026-07-01T12:00:00Z'), 'America/New_York')).toBe(8 * 60);
    expect(minuteOfDay(at('2026-12-01T12:00:00Z'), 'America/New_York')).toBe(7 * 60);
  });

  it('a same-day span is [from, to)', () => {
    const q = { from: '12:00', to: '13:30', timeZone: 'UTC' };
    expect(inQuietHours(at('2026-12-01T11:59:00Z'), q)).toBe(false);
    expect(inQuietHours(at('2026-12-01T12:00:00Z'), q)).toBe(true);
    expect(inQuietHours(at('2026-12-01T13:29:00Z'), q)).toBe(true);
    expect(inQuietHours(at('2026-12-01T13:30:00Z'), q)).toBe(false);
  });

  it('sends nothing when notices are off', () => {
    const route = routeNotice(
      'warning',
      noticesSchema.parse({ enabled: false }),
      { slack: true },
      at('2026-12-01T12:00:00Z'),
    );
    expect(route).toEqual({
      email: { send: false, why: 'notices are off (notices.enabled: false)' },
      slack: { send: false, why: 'notices are off (notices.enabled: false)' },
    });
  });

  it('refuses a bad config with the key and what to write', () => {
    const bad = (v: unknown) =>
      noticesSchema.safeParse(v).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(bad({ quietHours: { from: '25:00', to: '07:00' } })).toEqual([
      'quietHours.from: must be a time of day as HH:MM (24-hour), e.g. 22:00',
    ]);
    expect(bad({ quietHours: { from: '22:00', to: '07:00', timeZone: 'Mars/Olympus' } })).toEqual([
      'quietHours.timeZone: must be an IANA time zone such as Europe/Paris or UTC',
    ]);
    expect(bad({ quietHours: { from: '22:00', to: '22:00' } })).toEqual([
      'quietHours: from and to are equal: quiet hours need a span',
    ]);
    expect(bad({ minLevel: { email: 'debug' } })?.[0]).toMatch(/^minLevel.email: /);
  });
});

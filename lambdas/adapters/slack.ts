const SLACK_TIMEOUT_MS = 10_000;

/** The part of a logger the poster uses (Powertools' Logger fits). */
export interface SlackLogger {
  warn(message: string, extra: Record<string, unknown>): void;
}

export interface SlackTarget {
  /** The incoming-webhook URL (a secret in its path: never logged). */
  readonly url: string;
  readonly fetch?: typeof fetch;
  readonly logger?: SlackLogger;
}

/**
 * Posts `text` to a Slack incoming webhook. A webhook that answers an error or cannot be reached
 * never throws: the failure is logged with the status and the host (not the URL), and the
 * result returned, so the channel that must deliver (the SNS topic) decides retries alone.
 */
export async function postToSlack(
  target: SlackTarget,
  text: string,
  context: Readonly<Record<string, string>>,
): Promise<'sent' | 'failed'> {
  const host = URL.canParse(target.url) ? new URL(target.url).host : 'the webhook';
  const warn = (reason: string) =>
    (target.logger ?? { warn: (m: string, e: object) => console.warn(m, JSON.stringify(e)) }).warn(
      'slack message not delivered',
      { ...context, webhookHost: host, reason },
    );
  try {
    const res = await (target.fetch ?? fetch)(target.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text }),
      signal: AbortSignal.timeout(SLACK_TIMEOUT_MS),
    });
    if (res.ok) return 'sent';
    const body = (await res.text().catch(() => '')).slice(0, 200);
    warn(`HTTP ${res.status}${body ? ` ${body}` : ''}`);
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    warn(`${(err as Error).message}${cause ? ` (${cause.code ?? cause.message})` : ''}`);
  }
  return 'failed';
}

import { approvalLinkIn, readOutbox } from '../../bin/cli/demo-approver.js';

/**
 * The link of the first approval email written to the outbox after its first `after` messages,
 * polled until one arrives (a deadline, not a timing assertion). `why` says what the execution
 * was doing when none came.
 */
export async function nextApprovalLink(
  outboxDir: string,
  after: number,
  opts: { timeoutMs?: number; why?: () => string } = {},
): Promise<string> {
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  for (;;) {
    const link = readOutbox(outboxDir)
      .slice(after)
      .map((m) => approvalLinkIn(m.text))
      .find(Boolean);
    if (link) return link;
    if (Date.now() > deadline)
      throw new Error(`no approval email arrived${opts.why ? `: ${opts.why()}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

import { reminderDue } from '../../domain/approval/request.js';
import { type ApprovalMailDeps, emailApprovers } from './mail.js';

/**
 * Reminder emails to the approvers who have not decided, once per request, inside its reminder
 * window (environments' `reminderHoursBeforeExpiry`), with the same personal link as the first
 * email. The approval-reminders handler runs it on a schedule. Returns the ids of the requests
 * reminded about.
 */
export async function sendReminders(d: ApprovalMailDeps, now = new Date()): Promise<string[]> {
  const reminded: string[] = [];
  for (const request of await d.store.listPending()) {
    if (!reminderDue(request, now)) continue;
    if (!(await d.store.markReminded(request.requestId))) continue;
    const decided = new Set((await d.store.decisions(request.requestId)).map((x) => x.approver));
    await emailApprovers(d, request, 'reminder', decided);
    reminded.push(request.requestId);
  }
  return reminded;
}

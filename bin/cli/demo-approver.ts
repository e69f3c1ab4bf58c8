import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The approval link in an .eml's text part (what a person would click). */
export function approvalLinkIn(eml: string): string | undefined {
  return /https?:\/\/[^\s"<>]+\/approvals\/[^\s"<>]+/.exec(eml)?.[0]?.replace(/&amp;/g, '&');
}

export interface OutboxMessage {
  readonly file: string;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
}

export function readOutbox(dir: string): OutboxMessage[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.eml'));
  } catch {
    return [];
  }
  return files.sort().map((f) => {
    const text = readFileSync(join(dir, f), 'utf8');
    const header = (name: string) => new RegExp(`^${name}: (.*)$`, 'mi').exec(text)?.[1]?.trim() ?? '';
    return { file: join(dir, f), to: header('To'), subject: header('Subject'), text };
  });
}

/** Hidden inputs of the page's decision form, as a browser would submit them. */
export function formFields(html: string): { action: string | undefined; fields: Record<string, string> } {
  const form = /<form[^>]*method="post"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  const action = form ? /action="([^"]*)"/i.exec(form[0])?.[1] : undefined;
  const fields: Record<string, string> = {};
  for (const m of (form?.[1] ?? '').matchAll(/<input[^>]*>/gi)) {
    const tag = m[0];
    if (!/type="hidden"/i.test(tag)) continue;
    const name = /name="([^"]*)"/i.exec(tag)?.[1];
    const value = /value="([^"]*)"/i.exec(tag)?.[1] ?? '';
    if (name) fields[name] = decodeEntities(value);
  }
  return { action: action ? decodeEntities(action) : undefined, fields };
}

function decodeEntities(s: string): string {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

export interface ApprovalVisit {
  readonly link: string;
  readonly pageStatus: number;
  readonly pageMentions: string[];
  readonly postStatus: number;
  readonly confirmation: string;
}

/**
 * Acts as the approver exactly as a browser would: GET the emailed link (which changes
 * nothing), then POST the page's form with the decision and a comment.
 */
export async function approveThroughLink(
  link: string,
  decision: 'approve' | 'reject',
  comment: string,
  expectOnPage: readonly string[],
): Promise<ApprovalVisit> {
  const page = await fetch(link);
  const html = await page.text();
  if (page.status !== 200) throw new Error(`GET ${link} answered ${page.status}: ${html.slice(0, 200)}`);
  const { action, fields } = formFields(html);
  const target = new URL(action ?? link, link);
  const body = new URLSearchParams({ ...fields, decision, comment });
  const post = await fetch(target, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
    redirect: 'manual',
  });
  const text = await post.text();
  if (post.status >= 400) throw new Error(`POST ${target} answered ${post.status}: ${text.slice(0, 300)}`);
  const confirmation = (/<h1>([\s\S]*?)<\/h1>/.exec(text)?.[1] ?? text)
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 160);
  return {
    link,
    pageStatus: page.status,
    pageMentions: expectOnPage.filter((s) => html.includes(s)),
    postStatus: post.status,
    confirmation,
  };
}

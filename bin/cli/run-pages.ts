import { spawn } from 'node:child_process';
import { presignGetUrl } from '../../lambdas/adapters/s3-presign.js';
import { REPORT_PAGE_URL_SECONDS } from '../../lambdas/contracts/routes.js';
import type { WrittenPage } from '../../lambdas/services/registry/run-pages.js';
import type { CliContext } from './types.js';

/**
 * Where a person reads a page the CLI wrote: on the embedded default the local gateway's
 * /reports/… route (the page's key as its path); on AWS a presigned GET URL of the object, signed
 * with the caller's own credentials, valid for 15 minutes.
 */
export async function pageUrl(ctx: CliContext, page: Pick<WrittenPage, 'bucket' | 'key'>): Promise<string> {
  if (ctx.where.kind === 'local') {
    const base = ctx.where.api.endsWith('/') ? ctx.where.api : `${ctx.where.api}/`;
    return new URL(page.key.split('/').map(encodeURIComponent).join('/'), base).href;
  }
  return presignGetUrl(
    { bucket: page.bucket, key: page.key },
    {
      region: await ctx.s3.config.region(),
      credentials: ctx.s3.config.credentials,
      expiresIn: REPORT_PAGE_URL_SECONDS,
    },
  );
}

/** Prints where the page is; with --open on a terminal, also hands the URL to the desktop's opener. */
export async function announcePage(ctx: CliContext, page: WrittenPage, open: boolean): Promise<string> {
  const url = await pageUrl(ctx, page);
  const note = ctx.where.kind === 'aws' ? ' (presigned: valid for 15 minutes)' : '';
  ctx.output.info(`page: ${url}${note}`);
  if (open && process.stdout.isTTY) {
    const opener =
      process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
    const child = spawn(opener, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => ctx.output.info(`(could not start ${opener}: open the URL above yourself)`));
    child.unref();
  }
  return url;
}

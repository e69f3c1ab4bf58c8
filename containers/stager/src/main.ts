import { createS3Client } from '../../../lambdas/adapters/aws-clients.js';
import { S3Objects } from '../../../lambdas/adapters/s3-objects.js';
import { parseStagerEnv, runStager } from './stager-job.js';

/**
 * The stager container's entrypoint: `node /app/stager.mjs <mode>`. A summary goes to stdout as
 * one JSON line; a failure is ONE line on stderr and exit code 1 (Batch shows it as the
 * container's reason). checkpoint-sync runs until SIGTERM (ECS stops it when the task ends),
 * then uploads once more.
 */
function oneLine(err: unknown): string {
  const e = err instanceof Error ? err : new Error(String(err));
  const name = e.name && e.name !== 'Error' ? `${e.name}: ` : '';
  return `stager: ${name}${e.message}`.replace(/\s*\n\s*/g, '; ');
}

async function main(): Promise<number> {
  let env: ReturnType<typeof parseStagerEnv>;
  try {
    env = parseStagerEnv(process.argv.slice(2), process.env);
  } catch (err) {
    console.error(oneLine(err));
    return 1;
  }
  const stop = new AbortController();
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => stop.abort());
  const s3 = createS3Client();
  try {
    const summary = await runStager(env, {
      objects: new S3Objects(s3),
      signal: stop.signal,
      log: (line) => console.log(line),
    });
    console.log(JSON.stringify({ stager: env.mode, ...(summary as object) }));
    return 0;
  } catch (err) {
    console.error(oneLine(err));
    return 1;
  } finally {
    s3.destroy();
  }
}

process.exitCode = await main();

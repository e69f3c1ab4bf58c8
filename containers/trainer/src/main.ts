import { createS3Client } from '../../../lambdas/adapters/aws-clients.js';
import { parseTrainerEnv, runTraining } from './train-job.js';

/**
 * The training container's entrypoint (AWS Batch, or a child process on the embedded default).
 * Progress goes to stdout as JSON lines; a failure is ONE line on stderr and exit code 1, which
 * Batch reports as the container's reason and the state machine routes to TrainingFailed.
 */
function oneLine(err: unknown): string {
  const e = err instanceof Error ? err : new Error(String(err));
  const name = e.name && e.name !== 'Error' ? `${e.name}: ` : '';
  return `trainer: ${name}${e.message}`.replace(/\s*\n\s*/g, '; ');
}

async function main(): Promise<number> {
  let env: ReturnType<typeof parseTrainerEnv>;
  try {
    env = parseTrainerEnv(process.env);
  } catch (err) {
    console.error(oneLine(err));
    return 1;
  }
  const s3 = createS3Client();
  try {
    await runTraining(env, { s3, log: (line) => console.log(line) });
    return 0;
  } catch (err) {
    console.error(oneLine(err));
    return 1;
  } finally {
    s3.destroy();
  }
}

process.exitCode = await main();

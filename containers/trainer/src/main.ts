import { createS3Client } from '../../../lambdas/adapters/aws-clients.js';
import { describeZodError } from '../../../lambdas/contracts/config-load.js';
import { runTraining, trainerEnvSchema } from './train-job.js';

/**
 * The training container's entrypoint (AWS Batch, or a child process on the embedded default).
 * Progress goes to stdout as JSON lines; a failure is one clear line on stderr and exit code 1,
 * which Batch reports and the state machine routes to TrainingFailed.
 */
async function main(): Promise<void> {
  const env = trainerEnvSchema.safeParse(process.env);
  if (!env.success) {
    console.error(`trainer: ${describeZodError(env.error, 'environment').replace(/\n/g, '; ')}`);
    process.exit(1);
  }
  const s3 = createS3Client();
  try {
    await runTraining(env.data, { s3, log: (line) => console.log(line) });
  } catch (err) {
    console.error(`trainer: ${(err as Error).message}`);
    process.exitCode = 1;
  } finally {
    s3.destroy();
  }
}

await main();

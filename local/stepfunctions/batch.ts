import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface SubmitJobParameters {
  readonly JobName: string;
  readonly JobQueue: string;
  readonly JobDefinition: string;
  readonly ContainerOverrides?: { readonly Environment?: readonly { Name: string; Value: string }[] };
  readonly Timeout?: { readonly AttemptDurationSeconds?: number };
}

/** A failed Batch .sync task surfaces to Catch as States.TaskFailed, as on AWS. */
export class BatchTaskFailed extends Error {
  override readonly name = 'States.TaskFailed';
}

export interface LocalBatchOptions {
  /** Repository root: the trainer entry is containers/trainer/src/main.ts under it. */
  readonly root: string;
  readonly logsDir: string;
  /** Environment the "container" starts from (endpoints and credentials of the emulators). */
  readonly baseEnv: NodeJS.ProcessEnv;
  readonly onLog?: (line: string) => void;
}

/**
 * `batch:submitJob.sync` on the embedded default: the trainer's entrypoint as a child process
 * with the same environment contract as the Batch container (ContainerOverrides.Environment).
 */
export async function runBatchJobLocally(
  params: SubmitJobParameters,
  options: LocalBatchOptions,
): Promise<{ JobId: string; JobName: string; Status: string; LogFile: string }> {
  mkdirSync(options.logsDir, { recursive: true });
  const jobId = `local-${Date.now().toString(36)}`;
  const logFile = join(options.logsDir, `${params.JobName}.log`);
  const log = createWriteStream(logFile);
  const env: NodeJS.ProcessEnv = { ...options.baseEnv };
  for (const { Name, Value } of params.ContainerOverrides?.Environment ?? []) env[Name] = Value;
  const entry = resolve(options.root, 'containers/trainer/src/main.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: options.root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let lastError = '';
  const limit = params.Timeout?.AttemptDurationSeconds;
  // As Batch does: a job past its attempt duration is terminated.
  const killer = limit ? setTimeout(() => child.kill('SIGTERM'), limit * 1000) : undefined;
  child.stdout.on('data', (chunk: Buffer) => {
    log.write(chunk);
    for (const line of chunk.toString().split('\n')) if (line.trim()) options.onLog?.(line);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    log.write(chunk);
    const text = chunk.toString().trim();
    if (text) lastError = text.split('\n').filter(Boolean).pop() ?? text;
  });
  const code = await new Promise<number | null>((done) => child.on('close', (c) => done(c)));
  clearTimeout(killer);
  await new Promise<void>((done) => log.end(done));
  if (code !== 0) {
    throw new BatchTaskFailed(
      JSON.stringify({
        JobId: jobId,
        JobName: params.JobName,
        Status: 'FAILED',
        StatusReason: `Essential container in task exited (code ${code})`,
        Container: { ExitCode: code, Reason: lastError, LogFile: logFile },
      }),
    );
  }
  return { JobId: jobId, JobName: params.JobName, Status: 'SUCCEEDED', LogFile: logFile };
}

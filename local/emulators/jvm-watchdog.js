// @ts-check
// Runs DynamoDB Local's JVM on behalf of one parent (startDynamoLocal) and ends it when that
// parent goes — however it goes. A parent killed with SIGKILL runs no handler, but the IPC
// channel to this process closes with it ('disconnect'), and that is when the JVM is stopped.
// Plain JavaScript so that it starts in a few milliseconds without a TypeScript loader.
//
// argv: <command> <args…>, run in this process's cwd. Messages to the parent: { jvmPid }.
// Exits with the JVM's exit code (128 + signal number when a signal ended it).
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

const [command = 'java', ...args] = process.argv.slice(2);

// Its own process group: Ctrl-C in a terminal signals the whole foreground group, and the JVM
// must outlive the parent's orderly shutdown (which stops it last, through this watchdog).
const jvm = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'], detached: true });

/** How long the JVM gets to exit after SIGTERM before SIGKILL. */
const GRACE_MS = 5000;
let stopping = false;
function stopJvm() {
  if (stopping) return;
  stopping = true;
  jvm.kill('SIGTERM');
  setTimeout(() => jvm.kill('SIGKILL'), GRACE_MS).unref();
}

jvm.on('spawn', () => process.send?.({ jvmPid: jvm.pid }));
jvm.on('error', (err) => {
  process.stderr.write(`cannot run ${command}: ${err.message}\n`);
  process.exit(127);
});
jvm.on('exit', (code, signal) => {
  process.exit(code ?? 128 + (signal ? constants.signals[signal] : 0));
});

process.on('disconnect', stopJvm);
process.on('SIGTERM', stopJvm);
process.on('SIGHUP', stopJvm);
// Ctrl-C reaches this process too (same group as the parent): the parent decides when to stop.
process.on('SIGINT', () => undefined);

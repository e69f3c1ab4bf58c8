/** What the reference trainer's train and predict entries share (contract v1). */

export const FRAMEWORK = { name: 'mlcycle-logreg', version: '2.0.0' } as const;

/**
 * The contract's failure: ONE line on stderr (the run's failure reason), exit code 1. A
 * platform error's name (DataError, ValidationError, ...) is kept in front of its message.
 */
export function fail(reason: unknown): never {
  const e = reason instanceof Error ? reason : new Error(String(reason));
  const name = reason instanceof Error && e.name && e.name !== 'Error' ? `${e.name}: ` : '';
  console.error(`trainer: ${name}${e.message}`.replace(/\s*\n\s*/g, '; '));
  process.exit(1);
}

export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) fail(`${name} is not set: run this entry through mlcycle (docs/trainer-contract.md)`);
  return value;
}

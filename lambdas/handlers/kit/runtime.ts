import { Logger } from '@aws-lambda-powertools/logger';
import type { z } from 'zod';
import { describeZodError } from '../../contracts/zod-errors.js';
import { ValidationError } from '../../domain/errors.js';

/** One structured logger per handler module (Powertools; JSON lines on CloudWatch). */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? `mlcycle-${serviceName}` });
}

/**
 * Reads and validates the handler's environment. Throws a ValidationError that names every
 * missing or bad variable, so a misconfigured function fails at its first invocation with a
 * message that says which variable to set.
 */
export function readEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (!result.success) throw new ValidationError(describeZodError(result.error, 'environment'));
  return result.data;
}

/** Validates an event or state input; the message names the field and the value. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new ValidationError(describeZodError(result.error, what));
  return result.data;
}

/**
 * Builds a value once, on first use. Handlers create SDK clients and adapters through this at
 * module scope: reused across warm invocations, yet created after tests (or the local runtime)
 * have set the environment.
 */
export function once<T>(factory: () => T): () => T {
  let value: T | undefined;
  let built = false;
  return () => {
    if (!built) {
      value = factory();
      built = true;
    }
    return value as T;
  };
}

import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import type { HandlerExecutionContext, MiddlewareStack } from '@smithy/types';
import { isMlcycleError, TransientError } from '../domain/errors.js';

/**
 * Retryable AWS SDK and network failures as TransientError, the one name the state machine
 * retries (see the ASL's Retry blocks).
 *
 * An SDK client retries what it classifies as throttling, transient (connection refused or
 * reset, timeouts, 500/502/503/504, errors modelled `$retryable`) or a server error (any other
 * 5xx) a few times, then throws the last error as it is: `Error` with `code: 'ECONNREFUSED'`,
 * `ThrottlingException`... — names no Retry matches, so a DynamoDB blip during Register failed a
 * GPU run. The middleware below sits outermost (initialize step), so it sees only what is left
 * after the SDK's own retries, and re-throws what the SDK would have retried as TransientError
 * with the original as `cause`. Everything else — ConditionalCheckFailed, NoSuchKey,
 * AccessDenied, validation — passes through unchanged.
 */

export const TRANSIENT_ERRORS_MIDDLEWARE = 'mlcycleTransientErrors';

/** What the SDK's retry strategy itself retries (its own classification, not a copy of it). */
export function isRetryableAwsError(err: unknown): boolean {
  if (!(err instanceof Error) || isMlcycleError(err) || err.name === 'AbortError') return false;
  const e = err as Parameters<typeof isTransientError>[0];
  return isThrottlingError(e) || isTransientError(e) || isServerError(e);
}

interface SdkErrorShape {
  code?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number; requestId?: string };
}

/** `err` as TransientError when the SDK would retry it, else `err` itself. */
export function asTransientError(err: unknown, context: Partial<HandlerExecutionContext> = {}): unknown {
  if (!isRetryableAwsError(err)) return err;
  const e = err as Error & SdkErrorShape;
  const operation = [context.clientName?.replace(/Client$/, ''), context.commandName?.replace(/Command$/, '')]
    .filter(Boolean)
    .join(' ');
  const what = e.code && e.code !== e.name ? `${e.name} ${e.code}` : e.name;
  const attempts = e.$metadata?.attempts;
  return new TransientError(
    `${operation || 'AWS call'} failed, retryable: ${what}: ${e.message}${attempts ? ` (after ${attempts} attempts)` : ''}`,
    {
      operation: operation || undefined,
      error: e.name,
      code: e.code,
      httpStatusCode: e.$metadata?.httpStatusCode,
      attempts,
      requestId: e.$metadata?.requestId,
    },
    { cause: err },
  );
}

/**
 * Adds the middleware to a client (once; it is a no-op on a client that has it). A
 * DynamoDBDocumentClient shares its DynamoDBClient's stack, so either may be given.
 */
export function withTransientErrors<C extends { middlewareStack: { identify(): string[] } }>(client: C): C {
  // The middleware only re-throws: it is the same for every client's input and output types.
  const stack = client.middlewareStack as unknown as MiddlewareStack<object, object>;
  if (!stack.identify().some((m) => m.startsWith(`${TRANSIENT_ERRORS_MIDDLEWARE} `))) {
    stack.add(
      (next, context) => async (args) => {
        try {
          return await next(args);
        } catch (err) {
          throw asTransientError(err, context);
        }
      },
      { step: 'initialize', priority: 'high', name: TRANSIENT_ERRORS_MIDDLEWARE },
    );
  }
  return client;
}

/**
 * Step Functions' timeouts on the local engine: a Task's TimeoutSecondsPath read from the state
 * input, and the execution's TimeoutSeconds, enforced here rather than by the library (which
 * resolves the path after Parameters and fires delays past 24.8 days at once).
 */
import type { AslDefinition, AslState } from './definition.js';

/** States.Timeout, as Step Functions raises it when a Task outlives its timeout. */
class StatesTimeout extends Error {
  override readonly name = 'States.Timeout';
}

function resolvePath(value: unknown, path: string): unknown {
  let at: unknown = value;
  for (const key of path
    .replace(/^\$\.?/, '')
    .split('.')
    .filter(Boolean)) {
    if (!at || typeof at !== 'object') return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

/**
 * Parameters key under which localDefinition makes the library resolve a Task's
 * TimeoutSecondsPath (the override sees only the input after Parameters); taken out again
 * before the task runs.
 */
const TIMEOUT_PARAMETER = 'MlcycleLocalTimeoutSeconds';

/** A TimeoutSecondsPath that does not resolve fails the state, as States.Runtime does on AWS. */
class StatesRuntime extends Error {
  override readonly name = 'States.Runtime';
}

/**
 * The timeout a TimeoutSecondsPath gives, with Step Functions' semantics: read from the state's
 * input. A Task with Parameters carries it in TIMEOUT_PARAMETER (see localDefinition); one
 * without receives the state's input itself.
 */
export function taskTimeout(
  path: string,
  input: unknown,
  carried: boolean,
): { seconds: number; params: unknown } {
  let seconds: unknown;
  let params = input;
  if (carried && input && typeof input === 'object') {
    const { [TIMEOUT_PARAMETER]: value, ...rest } = input as Record<string, unknown>;
    seconds = value;
    params = rest;
  } else {
    seconds = resolvePath(input, path);
  }
  if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds <= 0) {
    throw new StatesRuntime(
      `TimeoutSecondsPath ${path} did not resolve to a positive integer (got ${JSON.stringify(seconds)})`,
    );
  }
  return { seconds, params };
}

/**
 * setTimeout for any delay: Node fires a delay of 2^31 ms (24.8 days) or more at once, and the
 * lifecycle's execution timeout is a year. Unref'd, like the task timers.
 */
export function longTimer(ms: number, fire: () => void): { cancel: () => void } {
  const MAX = 2 ** 31 - 1;
  let timer: NodeJS.Timeout;
  const arm = (left: number) => {
    timer = setTimeout(() => (left > MAX ? arm(left - MAX) : fire()), Math.min(left, MAX));
    timer.unref();
  };
  arm(ms);
  return { cancel: () => clearTimeout(timer) };
}

export async function withTimeout<T>(
  work: Promise<T>,
  seconds: number | undefined,
  onTimeout: () => void,
): Promise<T> {
  if (seconds === undefined) return work;
  let timer: { cancel: () => void } | undefined;
  // A wait of days must not by itself keep a CLI process running (longTimer is unref'd);
  // servers keep `up` alive. An approval wait may exceed Node's 24.8-day setTimeout limit.
  const timeout = new Promise<never>((_, reject) => {
    timer = longTimer(seconds * 1000, () => {
      onTimeout();
      reject(new StatesTimeout(`the task did not finish within ${seconds} s`));
    });
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    timer?.cancel();
  }
}

/**
 * A library timeout that never fires first: the real limit is enforced by withTimeout. (It must
 * stay below 2^31 ms, or Node's setTimeout fires at once.)
 */
const NO_LIBRARY_TIMEOUT = 2_000_000;

/** The states as the library runs them (see localDefinition), a Map's iterations included. */
function localStates(
  source: Record<string, AslState>,
  timeoutPaths: Record<string, string>,
): Record<string, AslState> {
  const states: Record<string, AslState> = {};
  for (const [name, state] of Object.entries(source)) {
    const processor = state.ItemProcessor as AslDefinition | undefined;
    if (state.Type === 'Map' && processor) {
      states[name] = {
        ...state,
        ItemProcessor: { ...processor, States: localStates(processor.States, timeoutPaths) },
      } as AslState;
    } else if (state.Type === 'Task' && typeof state.TimeoutSecondsPath === 'string') {
      const { TimeoutSecondsPath, ...rest } = state;
      timeoutPaths[name] = TimeoutSecondsPath as string;
      // With Parameters, the override sees only their result: the library resolves the path
      // against the state input for us, under a key the override removes again.
      const parameters = rest.Parameters
        ? { ...rest.Parameters, [`${TIMEOUT_PARAMETER}.$`]: TimeoutSecondsPath }
        : undefined;
      states[name] = {
        ...rest,
        ...(parameters ? { Parameters: parameters } : {}),
        TimeoutSeconds: NO_LIBRARY_TIMEOUT,
      } as AslState;
    } else states[name] = state;
  }
  return states;
}

/**
 * The definition as the library runs it: the execution's TimeoutSeconds and each Task's
 * TimeoutSecondsPath are taken out (and enforced by the
 * engine, with Step Functions' semantics: the path is read from the state input) so the
 * library's own reading, which resolves it against the input after Parameters, cannot fail or
 * mistime the state.
 */
export function localDefinition(definition: AslDefinition): {
  definition: AslDefinition;
  timeoutPaths: Record<string, string>;
  executionTimeoutSeconds: number | undefined;
} {
  const timeoutPaths: Record<string, string> = {};
  const states = localStates(definition.States, timeoutPaths);
  // The library arms one setTimeout for the execution's TimeoutSeconds, which Node fires at once
  // past 24.8 days; the engine enforces it instead (longTimer).
  const { TimeoutSeconds, ...rest } = definition;
  return {
    definition: { ...rest, States: states } as AslDefinition,
    timeoutPaths,
    executionTimeoutSeconds: typeof TimeoutSeconds === 'number' ? TimeoutSeconds : undefined,
  };
}

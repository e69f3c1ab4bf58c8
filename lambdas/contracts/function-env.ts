import type { MlcycleConfig } from './config-schema.js';
import { ENV, type EnvName } from './env.js';
import { HANDLERS, type HandlerContract, type HandlerName } from './handlers.js';

/**
 * The environment of each function, built from the contract (ENV, HANDLERS[*].env and optionalEnv)
 * and what a world gives: the CDK stack's resources as tokens, or the embedded default's endpoints
 * and files. The stack sets exactly this on each Lambda; the local runtime sets it on its process.
 */

/** Variables any function gets when its world gives them, outside the contract lists: the logger's. */
export const RUNTIME_ENV: readonly EnvName[] = [ENV.serviceName, ENV.logLevel];

/**
 * Embedded-default variables, and the contract variables they stand in for: the signing key as a
 * file instead of the Secrets Manager secret, and an outbox folder that receives what SES would
 * mail and SNS would publish. A handler whose contract lists one of those variables gets the stand-in
 * when the world gives it a value, and a required variable counts as given when its stand-in is.
 */
export const STAND_INS: Readonly<Partial<Record<EnvName, readonly EnvName[]>>> = {
  [ENV.signingSecretFile]: [ENV.signingSecretArn],
  [ENV.outboxDir]: [ENV.emailSender, ENV.alertTopicArn],
};

/**
 * Variables only the AWS world has: the CDN in front of client manifests (the embedded default
 * caches nothing, so a stage change has nothing to invalidate). Each is an optional variable of
 * the handlers that list it, and the stack gives it to every one of them.
 */
export const AWS_ONLY_ENV: readonly EnvName[] = [ENV.cdnDistributionId];

/** One value for every function, or a value per function (its logger's service name, say). */
export type EnvValue = string | ((handler: HandlerName) => string);

/** What a world gives the functions. */
export interface FunctionEnvWorld {
  /** The value of each variable the world has; a function gets its variables in this order. */
  readonly values: Readonly<Partial<Record<EnvName, EnvValue>>>;
  /**
   * The handlers that get an optional variable (HandlerContract.optionalEnv).
   * @default - every handler that lists it, when the world has a value
   */
  readonly optional?: Readonly<Partial<Record<EnvName, readonly HandlerName[]>>>;
}

/**
 * The optional variables a config turns on: drift gets the state machine's ARN (and with it the
 * right to start executions) only when it retrains on critical drift, or when a model's rollout
 * policy has a primary metric (a better canary asks for its promotion through an execution).
 */
export function optionalEnvironment(
  config: Pick<MlcycleConfig, 'monitoring'> & { models?: MlcycleConfig['models'] },
): FunctionEnvWorld['optional'] {
  const promotes = Object.values(config.models ?? {}).some((m) => m.rollout?.policy.primary);
  return { [ENV.stateMachineArn]: config.monitoring.retrainOnCritical.enabled || promotes ? ['drift'] : [] };
}

/** The variables a handler may get: its contract's, the stand-ins for them, and the runtime's. */
export function environmentNames(name: HandlerName, optional?: FunctionEnvWorld['optional']): Set<EnvName> {
  const contract: HandlerContract = HANDLERS[name];
  const names = new Set<EnvName>([
    ...contract.env,
    ...(contract.optionalEnv ?? []).filter((key) => optional?.[key]?.includes(name) ?? true),
  ]);
  for (const [standIn, replaced] of Object.entries(STAND_INS) as [EnvName, readonly EnvName[]][]) {
    if (replaced.some((key) => names.has(key))) names.add(standIn);
  }
  for (const key of RUNTIME_ENV) names.add(key);
  return names;
}

/**
 * The environment of one function in a world: each variable it may get that the world has a value
 * for. A required variable without a value (or a stand-in's) is an error naming both.
 */
export function functionEnvironment(name: HandlerName, world: FunctionEnvWorld): Record<string, string> {
  const names = environmentNames(name, world.optional);
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(world.values) as [EnvName, EnvValue | undefined][]) {
    if (value === undefined || !names.has(key)) continue;
    env[key] = typeof value === 'function' ? value(name) : value;
  }
  const missing = HANDLERS[name].env.filter(
    (key) => !(key in env) && !standInsFor(key).some((standIn) => standIn in env),
  );
  if (missing.length) throw new Error(`${name} requires ${missing.join(', ')}, and no value is given`);
  return env;
}

/** The environment of every function in a world. */
export function functionEnvironments(world: FunctionEnvWorld): Record<HandlerName, Record<string, string>> {
  return Object.fromEntries(
    (Object.keys(HANDLERS) as HandlerName[]).map((name) => [name, functionEnvironment(name, world)]),
  ) as Record<HandlerName, Record<string, string>>;
}

/**
 * One environment for functions that share a process (the embedded default runs every handler in
 * one): the union of theirs. A variable that would differ between them is an error.
 */
export function sharedEnvironment(world: FunctionEnvWorld): Record<string, string> {
  const shared: Record<string, string> = {};
  for (const [name, env] of Object.entries(functionEnvironments(world))) {
    for (const [key, value] of Object.entries(env)) {
      if (key in shared && shared[key] !== value) {
        throw new Error(`${key} differs between functions (${name}: ${value}); they cannot share a process`);
      }
      shared[key] = value;
    }
  }
  return shared;
}

/** The stand-ins a world may give instead of a contract variable. */
export function standInsFor(key: EnvName): EnvName[] {
  return (Object.entries(STAND_INS) as [EnvName, readonly EnvName[]][])
    .filter(([, replaced]) => replaced.includes(key))
    .map(([standIn]) => standIn);
}

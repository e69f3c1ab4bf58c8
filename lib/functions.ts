import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { BUNDLING, esbuildCommand } from '../lambdas/contracts/bundling.js';
import { ENV, type EnvName } from '../lambdas/contracts/env.js';
import {
  type FunctionEnvWorld,
  functionEnvironment,
  standInsFor,
} from '../lambdas/contracts/function-env.js';
import { HANDLERS, type HandlerContract, type HandlerName } from '../lambdas/contracts/handlers.js';
import { kebab } from '../lambdas/contracts/names.js';
import { environmentSize, environmentSizeProblem } from './lambda-environment-size.js';
import { acknowledge } from './nag.js';
import { fromRoot, REPO_ROOT } from './paths.js';

/** A second file bundled next to a handler, e.g. a worker-thread script it starts. */
export interface ExtraEntry {
  /** Source file, relative to the repository root. */
  readonly entry: string;
  /** File name in the function's bundle directory, e.g. `profile-worker.mjs`. */
  readonly outfile: string;
}

export interface LifecycleFunctionsProps {
  /** Prefix of function names. */
  readonly project: string;
  /**
   * Extra files bundled into a function's asset, built by the same esbuild with the same
   * settings.
   * @default - none
   */
  readonly extraEntries?: Partial<Record<HandlerName, readonly ExtraEntry[]>>;
  /**
   * Reserved concurrency per function: at most that many run at once, and the account keeps
   * that many for it. AWS refuses a reservation that leaves fewer than its minimum unreserved
   * (100, or all of a new account's quota of 10), so the deploy fails on such accounts.
   * @default - none reserved
   */
  readonly reservedConcurrency?: Partial<Record<HandlerName, number>>;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** @default lambda.Architecture.ARM_64 */
  readonly architecture?: lambda.Architecture;
  /**
   * The Lambda runtime. cdk-nag (L1) requires the newest Node.js runtime aws-cdk-lib knows.
   * @default lambda.Runtime.NODEJS_24_X
   */
  readonly runtime?: lambda.Runtime;
}

/**
 * One NodejsFunction per handler in the contract (lambdas/contracts/handlers.ts), each with its
 * own role (no managed policies: it may write its own log group and X-Ray traces, everything
 * else is granted by the stack), memory and timeout from the contract, X-Ray tracing and a log
 * group with retention. Bundled by the local esbuild as ESM: no Docker. The environment is set
 * by `applyEnvironment`, from the contract, once the resources it names exist.
 */
export class LifecycleFunctions extends Construct {
  private readonly fns = new Map<HandlerName, nodejs.NodejsFunction>();
  private readonly roles = new Map<HandlerName, iam.Role>();
  private readonly applied = new Map<HandlerName, Record<string, string>>();
  private readonly project: string;

  constructor(scope: Construct, id: string, props: LifecycleFunctionsProps) {
    super(scope, id);
    this.project = props.project;
    const runtime = props.runtime ?? lambda.Runtime.NODEJS_24_X;
    for (const [name, contract] of Object.entries(HANDLERS) as [HandlerName, HandlerContract][]) {
      const group = new Construct(this, name);
      const role = new iam.Role(group, 'Role', {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `mlcycle ${name} function`,
      });
      const logGroup = new logs.LogGroup(group, 'Logs', {
        retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      });
      // What AWSLambdaBasicExecutionRole would give, limited to this function's log group.
      logGroup.grantWrite(role);
      const extra = props.extraEntries?.[name] ?? [];
      const fn = new nodejs.NodejsFunction(group, 'Function', {
        functionName: functionName(props.project, name),
        description: `mlcycle ${name} (${contract.entry})`,
        entry: fromRoot(contract.entry),
        handler: 'handler',
        projectRoot: REPO_ROOT,
        depsLockFilePath: fromRoot('package-lock.json'),
        runtime,
        architecture: props.architecture ?? lambda.Architecture.ARM_64,
        memorySize: contract.memoryMb,
        timeout: Duration.seconds(contract.timeoutSeconds),
        tracing: lambda.Tracing.ACTIVE,
        ...(props.reservedConcurrency?.[name] !== undefined
          ? { reservedConcurrentExecutions: props.reservedConcurrency[name] }
          : {}),
        role,
        logGroup,
        // The options of lambdas/contracts/bundling.ts (the profiling worker is built with them locally).
        bundling: {
          format: { esm: nodejs.OutputFormat.ESM }[BUNDLING.format],
          target: BUNDLING.target,
          mainFields: [...BUNDLING.mainFields],
          banner: BUNDLING.banner,
          // The SDK goes into the bundle: the versions the tests ran against, not the runtime's.
          bundleAwsSDK: true,
          minify: BUNDLING.minify,
          sourceMap: BUNDLING.sourcemap,
          ...(extra.length ? { commandHooks: extraEntryHooks(extra) } : {}),
        },
      });
      acknowledge(
        role,
        'AwsSolutions-IAM5[Resource::*]',
        'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions; tracing is on for every function.' +
          // The functions given the job queue find an ended execution's jobs on it (grantStopJobs).
          ((HANDLERS[name].env as readonly string[]).includes(ENV.jobQueue)
            ? ' batch:ListJobs (finding the jobs an ended execution left running) supports none either.'
            : ''),
      );
      this.fns.set(name, fn);
      this.roles.set(name, role);
    }
    // A required variable without a value fails synth, naming the function and the variable.
    this.node.addValidation({
      validate: () =>
        (Object.entries(HANDLERS) as [HandlerName, HandlerContract][]).flatMap(([name, contract]) =>
          contract.env
            .filter((key) => ![key, ...standInsFor(key)].some((k) => k in (this.applied.get(name) ?? {})))
            .map((key) => `${name} requires ${key}, and the stack gives it no value`),
        ),
    });
    // So does an environment Lambda would refuse at deploy (4 KB), naming the largest variables.
    this.node.addValidation({
      validate: () =>
        this.all().flatMap(([name, fn]) => {
          const cfn = fn.node.defaultChild as lambda.CfnFunction;
          // The L1 property resolves with its own (camelCase) keys, not the template's.
          const env = Stack.of(this).resolve(cfn.environment) as
            | { variables?: Record<string, unknown> }
            | undefined;
          return environmentSizeProblem(name, environmentSize(env?.variables ?? {})) ?? [];
        }),
    });
  }

  /**
   * Sets each function's environment as the contract builds it (lambdas/contracts/function-env.ts)
   * from the stack's resources: exactly the variables its contract lists (optional ones where the
   * world says), and its logger's service name. Once, when every resource it names exists.
   */
  applyEnvironment(world: FunctionEnvWorld): void {
    if (this.applied.size) throw new Error('the functions’ environment is already set');
    const values = {
      [ENV.serviceName]: (name: HandlerName) => functionName(this.project, name),
      ...world.values,
    };
    for (const [name, fn] of this.all()) {
      const env = functionEnvironment(name, { ...world, values });
      for (const [key, value] of Object.entries(env)) fn.addEnvironment(key, value);
      this.applied.set(name, env);
    }
  }

  /** The functions whose environment has a variable (e.g. the state machine's ARN: they may start it). */
  given(key: EnvName): HandlerName[] {
    return [...this.applied].filter(([, env]) => key in env).map(([name]) => name);
  }

  get(name: HandlerName): nodejs.NodejsFunction {
    const fn = this.fns.get(name);
    if (!fn) throw new Error(`no function ${name}`);
    return fn;
  }

  role(name: HandlerName): iam.Role {
    const role = this.roles.get(name);
    if (!role) throw new Error(`no role for ${name}`);
    return role;
  }

  all(): [HandlerName, nodejs.NodejsFunction][] {
    return [...this.fns.entries()];
  }
}

/** Bundles extra entries into the output directory after the handler, with the same esbuild. */
function extraEntryHooks(extra: readonly ExtraEntry[]): nodejs.ICommandHooks {
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (inputDir: string, outputDir: string) =>
      extra.map((e) =>
        esbuildCommand(
          `${inputDir}/node_modules/.bin/esbuild`,
          `${inputDir}/${e.entry}`,
          `${outputDir}/${e.outfile}`,
        ),
      ),
  };
}

/** A function's name: `<project>-<handler in kebab case>` (also its logger's service name). */
export function functionName(project: string, name: HandlerName): string {
  return `${project}-${kebab(name)}`;
}

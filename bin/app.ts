#!/usr/bin/env node
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DEFAULT_CONFIG_PATH, parseConfig } from '../lambdas/adapters/config-file.js';
import { MlcycleStack } from '../lib/mlcycle-stack.js';
import { fromRoot } from '../lib/paths.js';
import { loadRunnableConfig } from '../local/trainers/config-trainers.js';

export interface BuildAppOptions {
  /** Props of the App (outdir, context such as `aws:cdk:bundling-stacks`). @default {} */
  readonly appProps?: AppProps;
  /** An App to add the stack to instead of a new one. @default a new App */
  readonly app?: App;
  /** Where the config came from, for error messages. @default mlcycle.config.yaml */
  readonly source?: string;
  /** Attach cdk-nag's AwsSolutions checks. @default true */
  readonly nag?: boolean;
}

/**
 * The CDK app for a config: validates it (a ValidationError names every bad key), builds the
 * env-agnostic stack named after `project`, and attaches cdk-nag's AwsSolutions checks, which
 * fail synthesis on any finding not acknowledged in lib/.
 */
export function buildApp(config: unknown, options: BuildAppOptions = {}): { app: App; stack: MlcycleStack } {
  const parsed = parseConfig(config, options.source ?? DEFAULT_CONFIG_PATH);
  const app =
    options.app ??
    new App({
      ...options.appProps,
      // The feature flags of cdk.json, also when a test (not the CLI) builds the app.
      context: { ...cdkJsonContext(), ...options.appProps?.context },
    });
  const stack = new MlcycleStack(app, parsed.project, {
    config: parsed,
    description:
      'mlcycle: ML lifecycle on AWS (train, evaluate, register, gate, approve, deploy, monitor, retrain, archive)',
  });
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

function cdkJsonContext(): Record<string, unknown> {
  const file = fromRoot('cdk.json');
  if (!existsSync(file)) return {};
  return (JSON.parse(readFileSync(file, 'utf8')) as { context?: Record<string, unknown> }).context ?? {};
}

function main(): void {
  const app = new App();
  const path =
    (app.node.tryGetContext('config') as string | undefined) ??
    process.env.MLCYCLE_CONFIG ??
    DEFAULT_CONFIG_PATH;
  try {
    buildApp(loadRunnableConfig(path), { app, source: path });
  } catch (err) {
    // A config problem is one line per bad key, not a stack trace.
    if ((err as Error).name !== 'ValidationError') throw err;
    console.error((err as Error).message);
    process.exit(1);
  }
  app.synth();
}

if (
  process.argv[1] &&
  realpathSync(resolve(process.argv[1])) === realpathSync(fileURLToPath(import.meta.url))
)
  main();

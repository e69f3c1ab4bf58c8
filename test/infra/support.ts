import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { parse } from 'yaml';
import { buildApp } from '../../bin/app.js';
import type { MlcycleStack } from '../../lib/mlcycle-stack.js';
import { fromRoot } from '../../lib/paths.js';

/** The repository's default config, as YAML parsed to plain data (buildApp validates it). */
export function defaultRawConfig(): Record<string, unknown> {
  return parse(readFileSync(fromRoot('mlcycle.config.yaml'), 'utf8')) as Record<string, unknown>;
}

export interface SynthesizedApp {
  readonly app: App;
  readonly stack: MlcycleStack;
  readonly template: Template;
  readonly outdir: string;
  /** Removes the temporary cloud assembly. */
  readonly dispose: () => void;
}

/**
 * Builds and synthesises the app into a temporary directory (never the repository's cdk.out).
 * `bundle: false` skips esbuild (`aws:cdk:bundling-stacks: []`) for pure template tests.
 */
export function synthApp(config: unknown, options: { bundle: boolean }): SynthesizedApp {
  const outdir = mkdtempSync(join(tmpdir(), 'mlcycle-infra-'));
  const { app, stack } = buildApp(config, {
    appProps: { outdir, context: options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] } },
  });
  app.synth();
  const template = Template.fromJSON(
    JSON.parse(readFileSync(join(outdir, stack.templateFile), 'utf8')) as Record<string, unknown>,
  );
  return { app, stack, template, outdir, dispose: () => rmSync(outdir, { recursive: true, force: true }) };
}

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

export interface Statement {
  readonly Effect?: string;
  readonly Action?: string | string[];
  readonly NotAction?: unknown;
  readonly Resource?: unknown;
  readonly NotResource?: unknown;
  readonly Principal?: unknown;
  readonly Condition?: unknown;
  readonly Sid?: string;
}

/** One identity-policy statement and the role(s) it is attached to (logical ids). */
export interface AttachedStatement {
  readonly policy: string;
  readonly roles: readonly string[];
  readonly statement: Statement;
}

export const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

export function resourcesOf(template: Template, type: string): [string, CfnResource][] {
  return Object.entries(template.findResources(type) as Record<string, CfnResource>);
}

/** Every statement of every identity policy (AWS::IAM::Policy, inline role policies, managed policies). */
export function identityStatements(template: Template): AttachedStatement[] {
  const out: AttachedStatement[] = [];
  for (const [id, r] of resourcesOf(template, 'AWS::IAM::Policy')) {
    const roles = list(r.Properties?.Roles as unknown[]).map(refOf);
    const doc = r.Properties?.PolicyDocument as { Statement: Statement[] };
    for (const statement of doc.Statement) out.push({ policy: id, roles, statement });
  }
  for (const [id, r] of resourcesOf(template, 'AWS::IAM::ManagedPolicy')) {
    const roles = list(r.Properties?.Roles as unknown[]).map(refOf);
    const doc = r.Properties?.PolicyDocument as { Statement: Statement[] };
    for (const statement of doc.Statement) out.push({ policy: id, roles, statement });
  }
  for (const [id, r] of resourcesOf(template, 'AWS::IAM::Role')) {
    const policies = (r.Properties?.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[];
    for (const p of policies)
      for (const statement of p.PolicyDocument.Statement) out.push({ policy: id, roles: [id], statement });
  }
  return out;
}

/** The logical id a `{ Ref }` or `{ Fn::GetAtt }` points at, or '' for anything else. */
export function refOf(value: unknown): string {
  const v = value as { Ref?: string; 'Fn::GetAtt'?: [string, string] } | undefined;
  return v?.Ref ?? v?.['Fn::GetAtt']?.[0] ?? '';
}

export const actionsOf = (s: Statement): string[] => list(s.Action);

/** The logical id of a construct's default CloudFormation resource. */
export function logicalId(stack: Stack, cfn: unknown): string {
  return Stack.of(stack).resolve((cfn as { logicalId: string }).logicalId) as string;
}

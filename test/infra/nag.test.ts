import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HANDLERS, type HandlerName } from '../../lambdas/contracts/handlers.js';
import { PROFILE_WORKER } from '../../lib/mlcycle-stack.js';
import { fromRoot } from '../../lib/paths.js';
import { defaultRawConfig, type SynthesizedApp, synthApp } from './support.js';

/**
 * cdk-nag 3 runs as a CDK validation plugin during `app.synth()`: an unacknowledged error fails
 * synthesis (ValidationFailed), an unacknowledged warning does not, but both land in
 * `validation-report.json` of the cloud assembly. This file synthesises the app once with real
 * esbuild bundling (what `cdk synth` does) and reads that report.
 */

interface ValidationReport {
  pluginReports: {
    pluginName: string;
    conclusion: string;
    violations: { ruleName: string; severity: string }[];
  }[];
}

interface Acknowledgement {
  readonly path: string;
  readonly id: string;
  readonly reason: string;
}

let s: SynthesizedApp;
let acks: Acknowledgement[];

beforeAll(() => {
  s = synthApp(defaultRawConfig(), { bundle: true });
  acks = s.app.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) =>
        Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({
          path: c.node.path,
          id: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );
});
afterAll(() => s?.dispose());

describe('cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged error or warning when the app is synthesised', () => {
    const report = JSON.parse(
      readFileSync(join(s.outdir, 'validation-report.json'), 'utf8'),
    ) as ValidationReport;
    const violations = report.pluginReports.flatMap((r) =>
      r.violations.map((v) => `${r.pluginName} ${v.severity} ${v.ruleName}`),
    );
    expect(violations).toEqual([]);
  });

  it('finds nothing either when run directly on the construct tree', () => {
    const result = new AwsSolutionsChecks().validateScope(s.app);
    expect(
      result.violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath)}`),
    ).toEqual([]);
    expect(result.success).toBe(true);
  });

  it('leaves no warning or error annotation on the stack', () => {
    const messages = s.app.synth().getStackArtifact(s.stack.artifactId).messages;
    expect(
      messages.filter((m) => m.level !== 'info').map((m) => `${m.level} ${m.id}: ${String(m.entry.data)}`),
    ).toEqual([]);
  });

  it('acknowledges with a specific reason: long enough, no placeholder, not reused for different rules', () => {
    const ours = acks.filter((a) => a.id.startsWith('AwsSolutions-'));
    expect(ours.length).toBeGreaterThan(0);
    for (const a of ours) {
      expect(a.reason.trim().length, `${a.path} ${a.id}`).toBeGreaterThanOrEqual(40);
      expect(a.reason, `${a.path} ${a.id}`).not.toMatch(
        /\b(todo|tbd|fixme|n\/a|suppress(ed)?|ignore(d)?)\b/i,
      );
    }
    const rulesByReason = new Map<string, Set<string>>();
    for (const a of ours) {
      const rule = a.id.replace(/\[.*$/, '');
      rulesByReason.set(a.reason, (rulesByReason.get(a.reason) ?? new Set()).add(rule));
    }
    for (const [reason, rules] of rulesByReason) expect([...rules], reason).toHaveLength(1);
  });

  it('acknowledges only findings that exist (no stale or blanket acknowledgement)', () => {
    // The same pack with acknowledgements ignored: every acknowledgement must match a finding
    // on its construct or below it.
    const pack = new AwsSolutionsChecks();
    Object.defineProperty(pack, 'isAcknowledged', { value: () => false });
    const findings = pack
      .validateScope(s.app)
      .violations.flatMap((v) =>
        v.violatingResources.map((r) => ({ id: v.ruleName, path: String(r.constructPath) })),
      );
    expect(findings.length).toBeGreaterThan(0);
    const stale = acks
      .filter((a) => a.id.startsWith('AwsSolutions-'))
      .filter(
        (a) => !findings.some((f) => f.id === a.id && (f.path === a.path || f.path.startsWith(`${a.path}/`))),
      )
      .map((a) => `${a.path} ${a.id}`);
    expect(stale).toEqual([]);
  });

  it('makes every acknowledgement through lib/nag.ts', () => {
    for (const file of [
      'approval-api',
      'functions',
      'lifecycle-state-machine',
      'mlcycle-stack',
      'monitoring',
      'schedules',
      'storage',
      'training',
    ]) {
      const text = readFileSync(fromRoot(`lib/${file}.ts`), 'utf8');
      expect(text, file).not.toMatch(/Validations\.of\([^)]*\)\.acknowledge|NagSuppressions/);
    }
  });
});

describe('synthesis with bundling (what `cdk synth` does, no Docker, no credentials)', () => {
  it('bundles every handler with esbuild into an ESM asset', () => {
    const assets = JSON.parse(readFileSync(join(s.outdir, `${s.stack.artifactId}.assets.json`), 'utf8')) as {
      files: Record<string, { source: { path: string } }>;
    };
    const template = s.template.toJSON() as {
      Resources: Record<string, { Properties: Record<string, unknown> }>;
    };
    for (const name of Object.keys(HANDLERS) as HandlerName[]) {
      const fn = s.stack.functions.get(name);
      const id = s.stack.getLogicalId(fn.node.defaultChild as never);
      const key =
        (template.Resources[id]?.Properties.Code as { S3Key?: string } | undefined)?.S3Key ?? 'missing';
      const asset = Object.values(assets.files).find((f) =>
        key.startsWith(f.source.path.replace(/^asset\./, '')),
      );
      expect(asset, name).toBeDefined();
      const dir = join(s.outdir, asset?.source.path ?? 'missing');
      expect(existsSync(join(dir, 'index.mjs')), name).toBe(true);
      if (name === 'baseline' || name === 'drift') {
        expect(existsSync(join(dir, PROFILE_WORKER.outfile)), name).toBe(true);
      }
    }
  });
});

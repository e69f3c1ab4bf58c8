import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromRoot } from '../../../lib/paths.js';

/**
 * The rooms of lambdas/ and what each may import (docs/architecture.md): contracts import
 * nothing of ours but contracts; domain imports contracts and domain, and nothing that does I/O;
 * adapters never reach up to services or handlers; services never import handlers.
 */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return filesUnder(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

const lambdas = fromRoot('lambdas');
const sources = filesUnder(lambdas).map((path) => {
  const text = readFileSync(path, 'utf8');
  // Import and export statements (and dynamic imports), not strings that mention a module.
  const specs = [
    ...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;'"`]*?from\s*'([^']+)';/g),
    ...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g),
  ].map((m) => m[1] ?? '');
  return { file: relative(lambdas, path), room: relative(lambdas, path).split('/')[0] ?? '', specs, text };
});

/** The lambdas/ room an import lands in, for relative imports. */
function roomOf(file: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const target = relative(lambdas, join(lambdas, file, '..', spec));
  return target.startsWith('..') ? 'outside' : target.split('/')[0];
}

const importsOf = (room: string) =>
  sources
    .filter((s) => s.room === room)
    .flatMap((s) => s.specs.map((spec) => ({ file: s.file, spec, to: roomOf(s.file, spec) })));

describe('the rooms of lambdas/', () => {
  it('contracts import only contracts, zod and Node built-ins (no AWS SDK)', () => {
    for (const i of importsOf('contracts')) {
      if (i.to) expect(i.to, `${i.file} → ${i.spec}`).toBe('contracts');
      else expect(i.spec, i.file).toMatch(/^(zod|node:[a-z_/]+)$/);
    }
  });

  it('domain imports only domain and contracts, and no I/O (no node:fs, no AWS SDK)', () => {
    for (const i of importsOf('domain')) {
      if (i.to) expect(['domain', 'contracts'], `${i.file} → ${i.spec}`).toContain(i.to);
      else expect(i.spec, i.file).not.toMatch(/^(node:fs|node:fs\/promises|fs|@aws-sdk\/|@smithy\/)/);
    }
  });

  it('adapters never import services or handlers', () => {
    for (const i of importsOf('adapters')) {
      expect(['services', 'handlers'], `${i.file} → ${i.spec}`).not.toContain(i.to);
    }
  });

  it('services never import handlers', () => {
    for (const i of importsOf('services')) expect(i.to, `${i.file} → ${i.spec}`).not.toBe('handlers');
  });

  it('no handler over 80 lines; no file over 400 lines but the hot loops that say so at the top', () => {
    for (const s of sources) {
      const lines = s.text.trimEnd().split('\n').length;
      if (s.room === 'handlers' && !s.file.includes('/kit/')) expect(lines, s.file).toBeLessThanOrEqual(80);
      if (lines > 400) expect(s.text.slice(0, 1500), `${s.file} (${lines} lines)`).toMatch(/hot loop/i);
    }
  });
});

/** Files of an outer room (bin/, local/, lib/) and the lambdas/ rooms they import. */
function outerImports(dir: string) {
  return filesUnder(fromRoot(dir)).flatMap((path) => {
    const text = readFileSync(path, 'utf8');
    const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;'"`]*?from\s*'([^']+)';/g)].map(
      (m) => m[1] ?? '',
    );
    return specs
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => ({ file: relative(fromRoot('.'), path), to: relative(lambdas, join(path, '..', spec)) }))
      .filter((i) => !i.to.startsWith('..'))
      .map((i) => ({ ...i, room: i.to.split('/')[0] ?? '' }));
  });
}

describe('the rooms around lambdas/', () => {
  it('the CLI and the embedded default reach the use cases through services, never through a handler', () => {
    // local/lambdas.ts invokes handlers by name through contracts/handlers.ts, as Lambda does.
    for (const i of [...outerImports('bin'), ...outerImports('local')]) {
      expect(i.room, `${i.file} → lambdas/${i.to}`).not.toBe('handlers');
    }
  });

  it('the CDK stack takes facts from contracts (and the config schema), never from use cases or adapters', () => {
    for (const i of outerImports('lib')) {
      expect(['contracts'], `${i.file} → lambdas/${i.to}`).toContain(i.room);
    }
    // Of local/, only the trainer.yaml reader: synth and `up` read a trainer folder the same way.
    for (const path of filesUnder(fromRoot('lib'))) {
      for (const m of readFileSync(path, 'utf8').matchAll(/from '(\.\.\/(?:local|bin)\/[^']+)'/g)) {
        expect(m[1], relative(fromRoot('.'), path)).toBe('../local/trainers/manifest.js');
      }
    }
  });

  it('clients/ are self-contained: the reference clients import nothing of ours (they are copied into games)', () => {
    for (const path of filesUnder(fromRoot('clients'))) {
      for (const m of readFileSync(path, 'utf8').matchAll(
        /(?:^|\n)\s*(?:import|export)\b[^;'"`]*?from\s*'([^']+)';/g,
      )) {
        expect(m[1], relative(fromRoot('.'), path)).not.toMatch(/^\./);
      }
    }
  });
});

import { readFileSync } from 'node:fs';

export const ASL_FILE = 'state-machines/lifecycle.asl.json';

/** Every `${Name}` placeholder in an ASL text. */
export function aslPlaceholders(text: string): string[] {
  return [...new Set([...text.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1] as string))].sort();
}

/**
 * Loads the one ASL file with definitionSubstitutions applied, as CloudFormation does for the
 * stack. A placeholder without a value is an error, so the two worlds cannot drift apart.
 */
export function loadDefinition(path: string, substitutions: Readonly<Record<string, string>>): AslDefinition {
  const text = readFileSync(path, 'utf8');
  const missing = aslPlaceholders(text).filter((p) => !(p in substitutions));
  if (missing.length) throw new Error(`${path}: no value for placeholder(s) ${missing.join(', ')}`);
  const substituted = text.replace(
    /\$\{([A-Za-z0-9_]+)\}/g,
    (_, name: string) => substitutions[name] as string,
  );
  return JSON.parse(substituted) as AslDefinition;
}

export interface AslState {
  readonly Type: string;
  readonly Resource?: string;
  readonly Parameters?: Record<string, unknown>;
  readonly [key: string]: unknown;
}

export interface AslDefinition {
  readonly StartAt: string;
  readonly States: Record<string, AslState>;
  readonly [key: string]: unknown;
}

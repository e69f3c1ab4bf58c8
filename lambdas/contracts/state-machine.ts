import { readFileSync } from 'node:fs';
import { ASL_PLACEHOLDERS, HANDLERS, type HandlerContract, type HandlerName } from './handlers.js';

/**
 * The one lifecycle definition and its `${Placeholder}`s: the CDK stack hands the file to
 * CloudFormation with `definitionSubstitutions`, the embedded default substitutes local values
 * itself. Both build the substitutions and load the file through this module.
 */

/** The ASL file, relative to the repository root. */
export const ASL_FILE = 'state-machines/lifecycle.asl.json';

const PLACEHOLDER = /\$\{([A-Za-z0-9_]+)\}/g;

/** Every `${Name}` placeholder in an ASL text, sorted. */
export function aslPlaceholders(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1] as string))].sort();
}

/** Each handler a Task of the state machine invokes, with its placeholder, in contract order. */
function invokedHandlers(): [HandlerName, string][] {
  return (Object.entries(HANDLERS) as [HandlerName, HandlerContract][]).flatMap(([name, contract]) =>
    contract.aslPlaceholder ? [[name, contract.aslPlaceholder] as [HandlerName, string]] : [],
  );
}

/** The handlers a Task of the state machine invokes (those with an `aslPlaceholder`), in contract order. */
export function aslFunctions(): HandlerName[] {
  return invokedHandlers().map(([name]) => name);
}

/** What a world gives the placeholders: the training queue and job definitions, and each invoked function. */
export interface AslResources {
  readonly trainingJobQueueArn: string;
  /** Job definitions are named `<prefix><model>`. */
  readonly trainingJobDefinitionPrefix: string;
  /** Predict job definitions are named `<prefix><model>`. */
  readonly predictJobDefinitionPrefix: string;
  readonly functionArn: (name: HandlerName) => string;
}

/** The value of every placeholder (ASL_PLACEHOLDERS, then HANDLERS[*].aslPlaceholder). */
export function aslSubstitutions(resources: AslResources): Record<string, string> {
  const values: Record<string, string> = {
    [ASL_PLACEHOLDERS.trainingJobQueueArn]: resources.trainingJobQueueArn,
    [ASL_PLACEHOLDERS.trainingJobDefinitionPrefix]: resources.trainingJobDefinitionPrefix,
    [ASL_PLACEHOLDERS.predictJobDefinitionPrefix]: resources.predictJobDefinitionPrefix,
  };
  for (const [name, placeholder] of invokedHandlers()) values[placeholder] = resources.functionArn(name);
  return values;
}

/**
 * Reads an ASL file and checks it against the substitutions: a placeholder without a value, or a
 * value without a placeholder, is an error naming them. Returns the text as it is (placeholders sit
 * inside JSON strings, so it parses).
 */
export function readAsl(path: string, substitutions: Readonly<Record<string, string>>): string {
  const text = readFileSync(path, 'utf8');
  const placeholders = aslPlaceholders(text);
  const missing = placeholders.filter((p) => !(p in substitutions));
  if (missing.length) throw new Error(`${path}: no value for placeholder(s) ${missing.join(', ')}`);
  const unused = Object.keys(substitutions).filter((p) => !placeholders.includes(p));
  if (unused.length) throw new Error(`${path}: no placeholder for substitution(s) ${unused.join(', ')}`);
  return text;
}

/** The text with every placeholder replaced, as CloudFormation does with `definitionSubstitutions`. */
export function substitute(text: string, substitutions: Readonly<Record<string, string>>): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => substitutions[name] ?? whole);
}

/** The ARN of the lifecycle's execution named `name` (execution names are what the CLI shows). */
export function executionArnOf(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

import { readAsl, substitute } from '../../lambdas/contracts/state-machine.js';

/**
 * Loads the one ASL file with definitionSubstitutions applied, as CloudFormation does for the
 * stack. A placeholder without a value, or a value without a placeholder, is an error (the stack
 * checks the same, through the same module), so the two worlds cannot drift apart.
 */
export function loadDefinition(path: string, substitutions: Readonly<Record<string, string>>): AslDefinition {
  return JSON.parse(substitute(readAsl(path, substitutions), substitutions)) as AslDefinition;
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

import { fileURLToPath } from 'node:url';
import { ASL_FILE as ASL_PATH } from '../lambdas/contracts/state-machine.js';

/**
 * Absolute paths the stack needs at synth time. Resolved from this file rather than the
 * working directory, so `cdk synth`, vitest and any other caller see the same repository.
 */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A path relative to the repository root (contracts list entries that way). */
export function fromRoot(relative: string): string {
  return fileURLToPath(new URL(`../${relative}`, import.meta.url));
}

/** The one state machine definition, shared with the local runtime (lambdas/contracts/state-machine.ts). */
export const ASL_FILE = fromRoot(ASL_PATH);

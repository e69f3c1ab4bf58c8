import { execFileSync } from 'node:child_process';

/**
 * The code version recorded in each version's lineage (the trainer's MLCYCLE_CODE_VERSION): the
 * git commit of the checkout that builds the trainer, with `-dirty` when tracked files differ
 * from it, or undefined outside a git checkout. Read at synth time by the stack (the image is
 * built from the same checkout) and at start-up by the embedded runtime.
 */
export function gitCodeVersion(root: string): string | undefined {
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: root, stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 })
      .toString()
      .trim();
  try {
    const sha = git('rev-parse', 'HEAD');
    return git('status', '--porcelain', '--untracked-files=no') ? `${sha}-dirty` : sha;
  } catch {
    return undefined;
  }
}

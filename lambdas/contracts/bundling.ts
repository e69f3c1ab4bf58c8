/**
 * How Lambda code is bundled by esbuild: the handlers and their extra entries (the profiling worker)
 * in the CDK stack (lib/functions.ts), and the profiling worker when it runs from source (local
 * runtime, tests, bench: lambdas/adapters/drift/profile-pool.ts). One set of options, so the code
 * that runs locally is built the way the deployed code is.
 */

/** Node ESM bundles still meet CommonJS dependencies that call `require`. */
export const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

export const BUNDLING = {
  platform: 'node',
  format: 'esm',
  /**
   * The syntax level esbuild emits: the oldest Node the code runs on. The functions run on a newer
   * Lambda runtime (lib/functions.ts), and this is also what the embedded default's Node (20.11+)
   * runs, since the sources themselves use no newer syntax.
   */
  target: 'node22',
  /** ESM builds of dependencies first. */
  mainFields: ['module', 'main'],
  banner: ESM_REQUIRE_BANNER,
  minify: true,
  /** No source maps: they would need NODE_OPTIONS, and the environment is exactly the contract's. */
  sourcemap: false,
} as const;

/** The options as esbuild's API takes them (`esbuild.build`/`buildSync`), bundling one entry. */
export function esbuildOptions(entry: string, outfile: string) {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: BUNDLING.platform,
    format: BUNDLING.format,
    target: BUNDLING.target,
    mainFields: [...BUNDLING.mainFields],
    banner: { js: BUNDLING.banner },
    minify: BUNDLING.minify,
    sourcemap: BUNDLING.sourcemap,
  };
}

/** The same options as an esbuild command line (the stack's bundling hooks run the CLI). */
export function esbuildCommand(esbuild: string, entry: string, outfile: string): string {
  return (
    `"${esbuild}" "${entry}" --bundle --platform=${BUNDLING.platform} ` +
    `--format=${BUNDLING.format} --target=${BUNDLING.target} --main-fields=${BUNDLING.mainFields.join(',')}` +
    `${BUNDLING.minify ? ' --minify' : ''} ` +
    `--outfile="${outfile}" --banner:js="${BUNDLING.banner}"`
  );
}

/**
 * The UTC time a run id starts with, to the second (`20261201T180518Z`): run ids sort by start
 * time, so the registry lists runs newest first and bounds "since" by key.
 */
export function runIdStamp(at: Date): string {
  return at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

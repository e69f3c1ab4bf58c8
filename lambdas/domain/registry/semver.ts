import semver from 'semver';
import { ValidationError } from '../errors.js';

export type Bump = 'major' | 'minor' | 'patch';

/** A strict major.minor.patch version (pre-release and build tags are not used by the registry). */
export function parseVersion(value: string): string {
  const v = semver.valid(value);
  if (!v || semver.prerelease(v) || v !== value) {
    throw new ValidationError(`"${value}" is not a semantic version like 1.4.2 (major.minor.patch)`);
  }
  return v;
}

/** The next version after the highest allocated one (1.0.0 for a model's first, whatever the bump). */
export function nextVersion(latest: string | undefined, bump: Bump): string {
  if (!latest) return '1.0.0';
  const next = semver.inc(latest, bump);
  if (!next) throw new ValidationError(`cannot bump "${latest}" by ${bump}`);
  return next;
}

/** Sort key that orders versions numerically as strings (DynamoDB sorts keys as strings). */
export function versionSortKey(version: string): string {
  const v = semver.parse(version);
  if (!v) throw new ValidationError(`"${version}" is not a semantic version`);
  return [v.major, v.minor, v.patch].map((n) => String(n).padStart(10, '0')).join('.');
}

export function compareVersions(a: string, b: string): number {
  return semver.compare(a, b);
}

export function maxVersion(a: string | undefined, b: string): string {
  return a && semver.gt(a, b) ? a : b;
}

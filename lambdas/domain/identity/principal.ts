import { principalMatches } from '../../contracts/principals.js';

/**
 * Who an AWS principal is, by the config's `identities` table (person → principals). A listed
 * IAM user or assumed-role session matches itself only; a listed IAM role matches every session
 * of it (`arn:aws:sts::<account>:assumed-role/<role name>/<any session>`), so list a role only if
 * the person is the only one who can assume it.
 */
export function personOf(
  identities: Readonly<Record<string, readonly string[]>>,
  principalArn: string,
): string | undefined {
  for (const [person, principals] of Object.entries(identities)) {
    if (principals.some((p) => principalMatches(p, principalArn))) return person.trim().toLowerCase();
  }
  return undefined;
}

export { principalMatches, principalsOverlap } from '../../contracts/principals.js';

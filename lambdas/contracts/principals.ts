/**
 * How AWS principals match, as API Gateway's IAM authorizer reports callers: pure ARN rules the
 * config schema (one principal is one person) and the caller mapping both apply.
 */
const ROLE = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/;
const SESSION = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/;

export function principalMatches(listed: string, caller: string): boolean {
  if (listed === caller) return true;
  const role = ROLE.exec(listed);
  const session = SESSION.exec(caller);
  // Roles are case-insensitive in IAM; the partition and account must be the same.
  return Boolean(
    role &&
      session &&
      role[1] === session[1] &&
      role[2] === session[2] &&
      role[3]?.toLowerCase() === session[3]?.toLowerCase(),
  );
}

/**
 * Whether some caller could match both listed principals: the same ARN, a role and one of its
 * sessions, or one role listed twice (IAM role names are unique per account whatever their
 * path or case). Two people may never list overlapping principals, or who a caller acts as
 * would depend on the order of the config.
 */
export function principalsOverlap(a: string, b: string): boolean {
  if (a === b || principalMatches(a, b) || principalMatches(b, a)) return true;
  const ra = ROLE.exec(a);
  const rb = ROLE.exec(b);
  return Boolean(
    ra && rb && ra[1] === rb[1] && ra[2] === rb[2] && ra[3]?.toLowerCase() === rb[3]?.toLowerCase(),
  );
}

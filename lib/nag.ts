import { Stack, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

/**
 * cdk-nag 3 acknowledgements. Every acknowledgement is made next to the code that causes the
 * finding, with the reason it is acceptable, so a reviewer reads both in one place.
 */

/** Acknowledges one rule (`AwsSolutions-S1`) or one finding (`AwsSolutions-IAM5[Resource::*]`) on a construct and its children. */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/** Acknowledges IAM5 findings one by one (cdk-nag 3 matches findings exactly, not by prefix). */
export function acknowledgeWildcards(scope: IConstruct, findings: readonly string[], reason: string): void {
  for (const finding of findings) acknowledge(scope, `AwsSolutions-IAM5[${finding}]`, reason);
}

/**
 * Adds a statement to a role and acknowledges exactly the IAM5 findings that this statement
 * introduces (a `*` in an action or a resource), with the reason. The findings are computed the
 * way cdk-nag renders them, so an unrelated wildcard added later to the same role is still
 * reported.
 */
export function addScopedStatement(
  role: iam.IRole & IConstruct,
  statement: iam.PolicyStatement,
  reason: string,
): void {
  role.addToPrincipalPolicy(statement);
  acknowledgeWildcards(role, wildcardFindings(role, statement), reason);
}

/** The IAM5 finding ids (`Action::s3:Get*`, `Resource::<Bucket.Arn>/runs/*`) of one statement. */
export function wildcardFindings(scope: IConstruct, statement: iam.PolicyStatement): string[] {
  const json = Stack.of(scope).resolve(statement.toStatementJson()) as {
    Action?: unknown;
    Resource?: unknown;
  };
  const list = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  const findings = new Set<string>();
  for (const action of list(json.Action)) {
    if (typeof action === 'string' && action.includes('*')) findings.add(`Action::${action}`);
  }
  for (const resource of list(json.Resource)) {
    const flat = flatten(resource);
    if (flat.includes('*')) findings.add(`Resource::${flat}`);
  }
  return [...findings];
}

/** The same flattening cdk-nag applies to a resolved CloudFormation reference. */
function flatten(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  const o = node as Record<string, unknown>;
  if (Array.isArray(o['Fn::Join'])) {
    const [delimiter, items] = o['Fn::Join'] as [string, unknown[]];
    return items.map(flatten).join(delimiter);
  }
  if (o['Fn::Sub'] !== undefined) return flatten(o['Fn::Sub']);
  if (Array.isArray(o['Fn::GetAtt'])) {
    const [resource, attribute] = o['Fn::GetAtt'] as [unknown, unknown];
    return `<${flatten(resource)}.${flatten(attribute)}>`;
  }
  if (o['Fn::ImportValue'] !== undefined) return flatten(o['Fn::ImportValue']);
  if (o.Ref !== undefined) return `<${flatten(o.Ref)}>`;
  return JSON.stringify(node);
}

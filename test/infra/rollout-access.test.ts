import type { CfnElement } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HandlerName } from '../../lambdas/contracts/handlers.js';
import {
  actionsOf,
  defaultRawConfig,
  identityStatements,
  list,
  resourcesOf,
  type SynthesizedApp,
  synthApp,
} from './support.js';

/**
 * The rollout routes in the template: IAM-authorised, served by their own function, whose role may
 * write only the model partitions (governance.test.ts checks the LeadingKeys), read the runs it
 * copies from, write manifests and served copies, and invalidate the CDN — nothing that starts
 * executions, completes approvals, sends mail or reads the link-signing key.
 */
let s: SynthesizedApp;
const roleId = (name: HandlerName) =>
  s.stack.getLogicalId(s.stack.functions.role(name).node.defaultChild as CfnElement);
const fnId = (name: HandlerName) =>
  s.stack.getLogicalId(s.stack.functions.get(name).node.defaultChild as CfnElement);

beforeAll(() => {
  s = synthApp(defaultRawConfig(), { bundle: false });
});
afterAll(() => s?.dispose());

describe('rollout routes (rollout-http)', () => {
  it('are the three IAM-authorised routes, integrated with rolloutHttp alone', () => {
    const routes = resourcesOf(s.template, 'AWS::ApiGatewayV2::Route')
      .map(([, r]) => r.Properties ?? {})
      .filter((p) => String(p.RouteKey).includes('/rollouts/'));
    expect(routes.map((p) => [p.RouteKey, p.AuthorizationType]).sort()).toEqual(
      [
        ['GET /rollouts/{model}/{stage}', 'AWS_IAM'],
        ['POST /rollouts/{model}/{stage}/abort', 'AWS_IAM'],
        ['POST /rollouts/{model}/{stage}/ramp', 'AWS_IAM'],
      ].sort(),
    );
    const integrations = new Map(
      resourcesOf(s.template, 'AWS::ApiGatewayV2::Integration').map(([id, r]) => [
        id,
        JSON.stringify(r.Properties),
      ]),
    );
    for (const route of routes) {
      const target = JSON.stringify(route.Target);
      const integration = [...integrations.entries()].find(([id]) => target.includes(id))?.[1] ?? '';
      expect(integration, String(route.RouteKey)).toContain(fnId('rolloutHttp'));
    }
  });

  it("rolloutHttp's role has least privilege", () => {
    const statements = identityStatements(s.template)
      .filter((a) => a.roles.includes(roleId('rolloutHttp')))
      .map((a) => a.statement);
    const actions = statements.flatMap(actionsOf);
    for (const forbidden of [
      /^states:/,
      /^ses:/,
      /^secretsmanager:/,
      /^batch:/,
      /^dynamodb:\*$/,
      /^s3:\*$/,
    ]) {
      expect(
        actions.filter((a) => forbidden.test(a)),
        String(forbidden),
      ).toEqual([]);
    }
    expect(actions).toContain('cloudfront:CreateInvalidation');
    // An abort is noticed on the alert topic, and only there.
    expect(actions.filter((a) => a.startsWith('sns:'))).toEqual(['sns:Publish']);
    const objectResources = statements
      .filter((st) => actionsOf(st).some((a) => a.startsWith('s3:') && a.endsWith('Object')))
      .flatMap((st) => list(st.Resource as unknown[]))
      .map((r) => JSON.stringify(r));
    expect(objectResources.length).toBeGreaterThan(0);
    for (const r of objectResources) expect(r).toMatch(/\/(runs|deployments|downloads)\/\*"/);
    const writes = statements
      .filter((st) => actionsOf(st).some((a) => a === 's3:PutObject' || a === 's3:DeleteObject'))
      .flatMap((st) => list(st.Resource as unknown[]))
      .map((r) => JSON.stringify(r));
    for (const r of writes) expect(r).toMatch(/\/(deployments|downloads)\/\*"/);
  });
});

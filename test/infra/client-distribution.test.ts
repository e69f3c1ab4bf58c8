import type { CfnElement } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../lambdas/contracts/env.js';
import type { HandlerName } from '../../lambdas/contracts/handlers.js';
import { CLIENT_PATHS } from '../../lambdas/contracts/routes.js';
import {
  type AttachedStatement,
  actionsOf,
  type CfnResource,
  defaultRawConfig,
  identityStatements,
  list,
  resourcesOf,
  type Statement,
  type SynthesizedApp,
  synthApp,
} from './support.js';

/**
 * Issue 13, slice 1: the CloudFront distribution game clients read manifests and models from,
 * its origin access to the served prefix only, and who may write served copies or invalidate.
 */

let s: SynthesizedApp;
let resources: Record<string, CfnResource>;
let statements: AttachedStatement[];
const idOf = (c: { node: { defaultChild?: unknown } }) =>
  s.stack.getLogicalId(c.node.defaultChild as CfnElement);
const roleId = (name: HandlerName) => idOf(s.stack.functions.role(name));
const fnProps = (name: HandlerName) =>
  resources[idOf(s.stack.functions.get(name))]?.Properties as {
    Environment: { Variables: Record<string, unknown> };
  };

beforeAll(() => {
  s = synthApp(defaultRawConfig(), { bundle: false });
  resources = s.template.toJSON().Resources as Record<string, CfnResource>;
  statements = identityStatements(s.template);
});
afterAll(() => s?.dispose());

interface DistributionConfig {
  Origins: {
    Id: string;
    DomainName: unknown;
    OriginAccessControlId?: unknown;
    S3OriginConfig?: unknown;
    CustomOriginConfig?: { OriginProtocolPolicy: string; OriginSSLProtocols: string[] };
    OriginPath?: string;
  }[];
  DefaultCacheBehavior: Behavior;
  CacheBehaviors: (Behavior & { PathPattern: string })[];
}
interface Behavior {
  TargetOriginId: string;
  ViewerProtocolPolicy: string;
  AllowedMethods: string[];
  CachePolicyId: unknown;
}

const distributionId = () => idOf(s.stack.clients.distribution);
const distribution = () => resources[distributionId()]?.Properties?.DistributionConfig as DistributionConfig;
/** `arn:<partition>:cloudfront::<account>:distribution/<Ref Distribution>`, as the template writes it. */
const isDistributionArn = (resource: unknown) => {
  const json = JSON.stringify(resource);
  return json.includes(':cloudfront::') && json.includes(`{"Ref":"${distributionId()}"}`);
};

describe('client distribution', () => {
  it('is one distribution: /models/* from the HTTP API over TLS 1.2, everything else from the bucket through OAC', () => {
    expect(resourcesOf(s.template, 'AWS::CloudFront::Distribution')).toHaveLength(1);
    const d = distribution();
    expect(d.Origins).toHaveLength(2);
    const bucketOrigin = d.Origins.find((o) => o.S3OriginConfig);
    const apiOrigin = d.Origins.find((o) => o.CustomOriginConfig);
    // Origin access control, no origin access identity, no origin path: URL path = key.
    expect(bucketOrigin?.OriginAccessControlId).toEqual({
      'Fn::GetAtt': [idOf(s.stack.clients.node.findChild('BucketAccess') as never), 'Id'],
    });
    expect(bucketOrigin?.S3OriginConfig).toEqual({ OriginAccessIdentity: '' });
    expect(bucketOrigin?.OriginPath).toBeUndefined();
    expect(JSON.stringify(apiOrigin?.DomainName)).toContain(idOf(s.stack.api.api));
    expect(apiOrigin?.CustomOriginConfig).toMatchObject({
      OriginProtocolPolicy: 'https-only',
      OriginSSLProtocols: ['TLSv1.2'],
    });

    expect(d.DefaultCacheBehavior).toMatchObject({
      TargetOriginId: bucketOrigin?.Id,
      ViewerProtocolPolicy: 'https-only',
      AllowedMethods: ['GET', 'HEAD'],
      // Managed CachingOptimized: the object's own Cache-Control (immutable, a year) applies.
      CachePolicyId: '658327ea-f89d-4fab-a63d-7e88639e58f6',
    });
    expect(d.CacheBehaviors).toHaveLength(1);
    expect(d.CacheBehaviors[0]).toMatchObject({
      PathPattern: CLIENT_PATHS.manifests.pattern,
      TargetOriginId: apiOrigin?.Id,
      ViewerProtocolPolicy: 'https-only',
      AllowedMethods: ['GET', 'HEAD'],
      CachePolicyId: { Ref: idOf(s.stack.clients.manifestCachePolicy) },
    });
  });

  it('caches a manifest by its path alone, for the origin’s s-maxage and at most 5 minutes', () => {
    const policy = resources[idOf(s.stack.clients.manifestCachePolicy)]?.Properties?.CachePolicyConfig as {
      MinTTL: number;
      DefaultTTL: number;
      MaxTTL: number;
      ParametersInCacheKeyAndForwardedToOrigin: Record<
        string,
        { HeaderBehavior?: string } & Record<string, unknown>
      >;
    };
    expect(policy).toMatchObject({ MinTTL: 0, DefaultTTL: 30, MaxTTL: 300 });
    const key = policy.ParametersInCacheKeyAndForwardedToOrigin;
    expect(key.HeadersConfig).toEqual({ HeaderBehavior: 'none' });
    expect(key.CookiesConfig).toEqual({ CookieBehavior: 'none' });
    expect(key.QueryStringsConfig).toEqual({ QueryStringBehavior: 'none' });
  });

  it('signs every origin request to S3 (SigV4 always)', () => {
    const oacs = resourcesOf(s.template, 'AWS::CloudFront::OriginAccessControl');
    expect(oacs).toHaveLength(1);
    expect(oacs[0]?.[1].Properties?.OriginAccessControlConfig).toMatchObject({
      OriginAccessControlOriginType: 's3',
      SigningBehavior: 'always',
      SigningProtocol: 'sigv4',
    });
  });

  it('may read downloads/* of the bucket and nothing else, and only this distribution (aws:SourceArn)', () => {
    const bucketId = idOf(s.stack.storage.bucket);
    const [[, policy] = ['', { Type: '' }]] = resourcesOf(s.template, 'AWS::S3::BucketPolicy').filter(
      ([, r]) => JSON.stringify(r.Properties?.Bucket).includes(bucketId),
    );
    const doc = policy.Properties?.PolicyDocument as { Statement: Statement[] };
    const forCdn = doc.Statement.filter((st) => JSON.stringify(st.Principal ?? '').includes('cloudfront'));
    expect(forCdn).toHaveLength(1);
    const [st] = forCdn;
    expect(st?.Effect).toBe('Allow');
    expect(actionsOf(st as Statement)).toEqual(['s3:GetObject']);
    expect(st?.Resource).toEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/downloads/*']] });
    const condition = ((st?.Condition ?? {}) as { StringEquals: Record<string, unknown> }).StringEquals ?? {};
    expect(Object.keys(condition)).toEqual(['AWS:SourceArn']);
    expect(isDistributionArn(condition['AWS:SourceArn'])).toBe(true);
  });

  it('lets only Deploy, rollback (registryHttp) and rollout changes (rolloutHttp) write served copies, and invalidate, on this distribution only', () => {
    const writers = (resource: string) =>
      statements
        .filter(
          (a) =>
            a.statement.Effect === 'Allow' &&
            actionsOf(a.statement).includes('s3:PutObject') &&
            list(a.statement.Resource).some((r) => JSON.stringify(r).includes(resource)),
        )
        .flatMap((a) => a.roles);
    // drift: a rollout's automatic abort republishes the manifest, as an abort does
    const publishers = new Set([
      roleId('deploy'),
      roleId('registryHttp'),
      roleId('rolloutHttp'),
      roleId('drift'),
    ]);
    expect(new Set(writers('/downloads/*'))).toEqual(publishers);

    const invalidators = statements.filter((a) =>
      actionsOf(a.statement).some((x) => x.toLowerCase().startsWith('cloudfront:')),
    );
    expect(new Set(invalidators.flatMap((a) => a.roles))).toEqual(publishers);
    for (const a of invalidators) {
      expect(actionsOf(a.statement)).toEqual(['cloudfront:CreateInvalidation']);
      expect(list(a.statement.Resource)).toHaveLength(1);
      expect(isDistributionArn(a.statement.Resource)).toBe(true);
    }
  });

  it('gives Deploy and rollback the distribution’s URL and id, and outputs the client base URL', () => {
    for (const name of ['deploy', 'registryHttp', 'rolloutHttp', 'drift'] as const) {
      const vars = fnProps(name).Environment.Variables;
      expect(vars[ENV.clientBaseUrl]).toEqual({
        'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distributionId(), 'DomainName'] }, '/']],
      });
      expect(vars[ENV.cdnDistributionId]).toEqual({ Ref: distributionId() });
    }
    // No other function learns of it.
    expect(fnProps('manifestHttp').Environment.Variables[ENV.cdnDistributionId]).toBeUndefined();
    const outputs = s.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.ClientBaseUrl?.Value).toEqual({
      'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distributionId(), 'DomainName'] }, '/']],
    });
  });
});

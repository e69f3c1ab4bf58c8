import { Duration, Fn, Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { CLIENT_PATHS } from '../lambdas/contracts/routes.js';
import { PREFIXES } from '../lambdas/contracts/s3-layout.js';
import { acknowledge } from './nag.js';

export interface ClientDistributionProps {
  /** The artifacts bucket: the distribution reads its `downloads/` prefix, nothing else. */
  readonly bucket: s3.Bucket;
  /** The HTTP API whose manifest route (`/models/*`) the distribution caches. */
  readonly api: apigw.IHttpApi;
  /**
   * Edge locations the distribution uses (cost versus latency for far-away players).
   * @default cloudfront.PriceClass.PRICE_CLASS_ALL - players are everywhere
   */
  readonly priceClass?: cloudfront.PriceClass;
  /**
   * Longest an edge keeps a manifest without revalidating, whatever the origin says. Manifests say
   * `s-maxage=60` (contracts/routes.ts), and every stage change invalidates them.
   * @default Duration.minutes(5)
   */
  readonly manifestMaxTtl?: Duration;
}

/**
 * What game clients read, on one CloudFront distribution (docs/deploy.md, "Client downloads"):
 * `/models/*` from the HTTP API (the manifest route), cached per edge for seconds and revalidated
 * with the ETag, and everything else from the artifacts bucket through origin access control,
 * where the bucket policy lets this distribution read `downloads/*` only: served copies under
 * immutable, content-addressed keys, cached for a year. The URL paths are the embedded default's.
 */
export class ClientDistribution extends Construct {
  readonly distribution: cloudfront.Distribution;
  readonly manifestCachePolicy: cloudfront.CachePolicy;

  constructor(scope: Construct, id: string, props: ClientDistributionProps) {
    super(scope, id);
    const oac = new cloudfront.S3OriginAccessControl(this, 'BucketAccess', {
      description: 'mlcycle client downloads: signed reads of the served artifacts',
      signing: cloudfront.Signing.SIGV4_ALWAYS,
    });
    // The bucket policy below is the only grant (withBucketDefaults adds none, unlike
    // withOriginAccessControl, whose grant covers every key of the bucket).
    const bucketOrigin = origins.S3BucketOrigin.withBucketDefaults(props.bucket, {
      originAccessControlId: oac.originAccessControlId,
    });
    // https://<id>.execute-api.<region>.amazonaws.com → its host name.
    const apiHost = Fn.select(2, Fn.split('/', props.api.apiEndpoint));
    const apiOrigin = new origins.HttpOrigin(apiHost, {
      protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
      originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
    });

    this.manifestCachePolicy = new cloudfront.CachePolicy(this, 'ManifestCache', {
      comment: 'mlcycle manifests: the origin’s s-maxage (60 s), revalidated by ETag, invalidated on change',
      minTtl: Duration.seconds(0),
      defaultTtl: Duration.seconds(30),
      maxTtl: props.manifestMaxTtl ?? Duration.minutes(5),
      // The cache key is the path alone: no header, cookie or query string reaches the origin,
      // so a caller cannot split the cache or shape what the origin answers.
      headerBehavior: cloudfront.CacheHeaderBehavior.none(),
      cookieBehavior: cloudfront.CacheCookieBehavior.none(),
      queryStringBehavior: cloudfront.CacheQueryStringBehavior.none(),
      enableAcceptEncodingGzip: true,
      enableAcceptEncodingBrotli: true,
    });

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'mlcycle client manifests and model downloads',
      priceClass: props.priceClass ?? cloudfront.PriceClass.PRICE_CLASS_ALL,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      // Served artifacts: immutable keys, the object's own Cache-Control (a year) within the
      // managed policy's bounds. Keys outside downloads/ are refused by the bucket policy.
      defaultBehavior: {
        origin: bucketOrigin,
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        compress: false,
      },
      additionalBehaviors: {
        [CLIENT_PATHS.manifests.pattern]: {
          origin: apiOrigin,
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
          cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD,
          cachePolicy: this.manifestCachePolicy,
          compress: true,
        },
      },
    });

    props.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'ClientDistributionReadsServedArtifacts',
        principals: [new iam.ServicePrincipal('cloudfront.amazonaws.com')],
        actions: ['s3:GetObject'],
        resources: [props.bucket.arnForObjects(`${PREFIXES.downloads}*`)],
        conditions: { StringEquals: { 'AWS:SourceArn': this.distributionArn } },
      }),
    );

    acknowledge(
      this.distribution,
      'AwsSolutions-CFR1',
      'Game clients download models worldwide; a geo restriction belongs to a studio’s own release policy, not to the platform.',
    );
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR2',
      'Only GET/HEAD of public, content-addressed model files and cached manifests pass; the manifest origin is throttled by ' +
        'the HTTP API stage and sees requests per edge per TTL. A studio that needs WAF rate rules attaches its web ACL.',
    );
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR3',
      'Standard logging needs an ACL-enabled log bucket (the stack enforces bucket-owner ownership); origin traffic is logged ' +
        'by the HTTP API access log and the artifacts bucket’s server access log, and CloudFront metrics cover the edge.',
    );
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR4',
      'On the default *.cloudfront.net certificate CloudFront fixes the viewer policy at TLSv1 (no custom domain is assumed); ' +
        'what clients download is public and its sha256 is in the manifest they check. A custom domain with an ACM ' +
        'certificate and TLSv1.2_2021 closes it (docs/deploy.md).',
    );
  }

  /** `arn:aws:cloudfront::<account>:distribution/<id>`: the bucket policy's and the grants' one resource. */
  get distributionArn(): string {
    return Stack.of(this).formatArn({
      service: 'cloudfront',
      region: '',
      resource: 'distribution',
      resourceName: this.distribution.distributionId,
    });
  }

  /** Base URL clients read manifests and download models from, ending in `/`. */
  get baseUrl(): string {
    return `https://${this.distribution.distributionDomainName}/`;
  }

  /** cloudfront:CreateInvalidation on this distribution alone (Deploy and rollback, after a stage change). */
  grantInvalidate(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'InvalidateClientManifests',
        actions: ['cloudfront:CreateInvalidation'],
        resources: [this.distributionArn],
      }),
    );
  }
}

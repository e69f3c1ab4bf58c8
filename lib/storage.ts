import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, type IConstruct } from 'constructs';
import type { ArchivalConfig } from '../lambdas/contracts/config-schema.js';
import { PREFIXES } from '../lambdas/contracts/s3-layout.js';
import { TABLE_KEYS } from '../lambdas/contracts/table.js';
import { addScopedStatement } from './nag.js';

export interface StorageProps {
  /** Retention and storage-class policy of the artifacts bucket (config `archival`). */
  readonly archival: ArchivalConfig;
  /**
   * Physical name of the registry table. Leave it to CloudFormation for a deployed stack: the
   * table is retained on delete, and a fixed name makes the next deploy collide with it.
   * @default - a name CloudFormation generates
   */
  readonly tableName?: string;
  /**
   * What happens to the bucket and the table when the stack is deleted. Both hold the registry
   * and every model ever trained, so they outlive the stack unless a caller decides otherwise.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Days the S3 server access logs are kept.
   * @default 365
   */
  readonly accessLogRetentionDays?: number;
}

/** What a role may do under one key prefix of the artifacts bucket. */
export interface PrefixGrant {
  /** Key prefix, e.g. `runs/churn/` (a trailing `*` is added). */
  readonly prefix: string;
  /** GetObject (and HeadObject). */
  readonly read?: boolean;
  /** PutObject, including multipart uploads and their abort. */
  readonly write?: boolean;
  /** DeleteObject (a delete marker: the bucket is versioned). */
  readonly delete?: boolean;
}

/**
 * The artifacts bucket (datasets, runs, monitoring, reports, client manifests), its access-log
 * bucket, and the registry table, with grants scoped to key prefixes and table actions.
 */
export class Storage extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogs: s3.Bucket;
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const { archival } = props;

    // Server access logs only support SSE-S3 on the target bucket.
    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(props.accessLogRetentionDays ?? 365) }],
      removalPolicy,
    });
    // No access logging of its own: it is the artifacts bucket's log target, which cdk-nag (S1)
    // recognises, so no acknowledgement is needed.

    this.bucket = new s3.Bucket(this, 'Artifacts', {
      versioned: true,
      // SSE-S3 rather than KMS: Batch jobs, Lambdas and S3 event consumers need no key grants,
      // and every request still goes over TLS (enforceSSL) and is encrypted at rest.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'artifacts/',
      lifecycleRules: [
        {
          id: 'runs-storage-classes',
          // Run outputs (models, metrics, holdouts) are read at deploy and rollback time, then
          // rarely: they move to cheaper classes, but only to ones readable at once (Glacier
          // Instant Retrieval), since a rollback must hash an old artifact without a restore.
          // Registry retention decides what is deleted.
          prefix: PREFIXES.runs,
          transitions: [
            {
              storageClass: s3.StorageClass.INFREQUENT_ACCESS,
              transitionAfter: Duration.days(archival.transitionToInfrequentAccessDays),
            },
            {
              storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
              transitionAfter: Duration.days(archival.transitionToGlacierDays),
            },
          ],
        },
        {
          id: 'expire-noncurrent',
          // Versioning guards against overwrites and deletes; old versions are not kept forever.
          noncurrentVersionExpiration: Duration.days(archival.expireNoncurrentAfterDays),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
          expiredObjectDeleteMarker: true,
        },
      ],
      removalPolicy,
    });

    this.table = new dynamodb.Table(this, 'Registry', {
      ...(props.tableName ? { tableName: props.tableName } : {}),
      partitionKey: { name: TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TABLE_KEYS.ttlAttribute,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      // The promotion ledger is the audit trail: the table survives the stack and a stray delete.
      deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: TABLE_KEYS.gsi1.indexName,
      partitionKey: { name: TABLE_KEYS.gsi1.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.gsi1.sortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
  }

  /**
   * Grants object access under key prefixes of the artifacts bucket. Readers also get
   * s3:ListBucket on the bucket: S3 answers a missing key with 404 only to callers that may
   * list, and the handlers read "404" as "not there yet" (no manifest, no baseline).
   */
  grantPrefixes(role: iam.IRole & IConstruct, grants: readonly PrefixGrant[], reason: string): void {
    const byActions = new Map<string, string[]>();
    for (const g of grants) {
      const actions = [
        ...(g.read ? ['s3:GetObject'] : []),
        ...(g.write ? ['s3:PutObject', 's3:AbortMultipartUpload'] : []),
        ...(g.delete ? ['s3:DeleteObject'] : []),
      ].join(',');
      if (!actions) throw new Error(`grant on ${g.prefix} names no access`);
      byActions.set(actions, [...(byActions.get(actions) ?? []), this.bucket.arnForObjects(`${g.prefix}*`)]);
    }
    for (const [actions, resources] of byActions) {
      addScopedStatement(role, new iam.PolicyStatement({ actions: actions.split(','), resources }), reason);
    }
    if (grants.some((g) => g.read)) this.grantList(role);
  }

  /** s3:ListBucket on the artifacts bucket (listing is a bucket-level permission). */
  grantList(role: iam.IRole): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }),
    );
  }

  /** Item reads on the registry table and its index (no Scan: every access path is a key or GSI1). */
  grantTableRead(role: iam.IRole): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'dynamodb:GetItem',
          'dynamodb:BatchGetItem',
          'dynamodb:Query',
          'dynamodb:ConditionCheckItem',
          'dynamodb:DescribeTable',
        ],
        resources: this.tableResources(),
      }),
    );
  }

  /**
   * Item reads, and writes limited to items whose partition key matches one of `partitions`
   * (`MODEL#churn`, `APPROVAL#*`, …: the `dynamodb:LeadingKeys` condition), so a function can
   * change only the kinds of items its use case owns. Transactions are checked item by item.
   */
  grantTableReadWrite(role: iam.IRole, partitions: readonly string[]): void {
    this.grantTableRead(role);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
          'dynamodb:BatchWriteItem',
        ],
        resources: [this.table.tableArn],
        conditions: leadingKeys(partitions),
      }),
    );
  }

  /**
   * Only Query (table and GSI1) and UpdateItem (table, on items of `partitions`): for a role that
   * lists by key or index and changes attributes of existing items, and must not create, delete
   * or read other items.
   */
  grantTableQueryAndUpdate(role: iam.IRole, partitions: readonly string[]): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:Query'], resources: this.tableResources() }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:UpdateItem'],
        resources: [this.table.tableArn],
        conditions: leadingKeys(partitions),
      }),
    );
  }

  private tableResources(): string[] {
    return [this.table.tableArn, `${this.table.tableArn}/index/${TABLE_KEYS.gsi1.indexName}`];
  }
}

function leadingKeys(partitions: readonly string[]): Record<string, unknown> {
  if (!partitions.length) throw new Error('a table write grant names no partition');
  return { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...partitions] } };
}

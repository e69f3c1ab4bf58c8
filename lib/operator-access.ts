import { ArnFormat, Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { HTTP_ROUTES } from '../lambdas/contracts/routes.js';
import { PREFIXES, RUN_PAGE_PATTERNS } from '../lambdas/contracts/s3-layout.js';
import { TABLE_KEYS } from '../lambdas/contracts/table.js';
import { acknowledgeWildcards, wildcardFindings } from './nag.js';

export interface OperatorAccessProps {
  /** Prefix of the policy's name. */
  readonly project: string;
  readonly api: apigw.IHttpApi;
  readonly table: dynamodb.ITable;
  readonly bucket: s3.IBucket;
  readonly stateMachine: sfn.StateMachine;
  /**
   * The log groups of the training and evaluation jobs (`runs logs`).
   * @default none: `runs logs` cannot read AWS
   */
  readonly jobLogGroups?: readonly logs.ILogGroup[];
}

/**
 * What a person needs to use `mlcycle --aws`, as one managed policy to attach to their IAM
 * user or role: call the control routes (IAM-authorised; what they may do there is decided by
 * the deployed config, for the person their principal maps to under `identities`), follow
 * executions, read the registry and reports, and upload datasets and monitoring files. Nothing
 * in it lets anyone write the registry, start an execution or complete an approval directly:
 * those go through the control API, as the authenticated caller.
 */
export class OperatorAccess extends Construct {
  readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: OperatorAccessProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const routeArn = (method: string, path: string) =>
      stack.formatArn({
        service: 'execute-api',
        resource: props.api.apiId,
        // `$default` stage; path parameters match one segment each.
        resourceName: `$default/${method}${path.replace(/\{[^}]+\}/g, '*')}`,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      });
    const control = HTTP_ROUTES.filter((r) => r.auth === 'iam').map((r) => routeArn(r.method, r.path));
    const executions = stack.formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${props.stateMachine.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const statements = [
      new iam.PolicyStatement({
        sid: 'ControlApi',
        actions: ['execute-api:Invoke'],
        resources: control,
      }),
      new iam.PolicyStatement({
        sid: 'FindTheStack',
        actions: ['cloudformation:DescribeStacks'],
        resources: [stack.stackId],
      }),
      new iam.PolicyStatement({
        sid: 'FollowExecutions',
        actions: ['states:DescribeExecution', 'states:GetExecutionHistory'],
        resources: [executions],
      }),
      new iam.PolicyStatement({
        sid: 'ListExecutions',
        actions: ['states:ListExecutions', 'states:DescribeStateMachine'],
        resources: [props.stateMachine.stateMachineArn],
      }),
      new iam.PolicyStatement({
        sid: 'ReadRegistry',
        actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:DescribeTable'],
        resources: [props.table.tableArn, `${props.table.tableArn}/index/${TABLE_KEYS.gsi1.indexName}`],
      }),
      new iam.PolicyStatement({
        sid: 'ReadArtifacts',
        actions: ['s3:GetObject'],
        resources: [
          PREFIXES.runs,
          PREFIXES.reports,
          PREFIXES.deployments,
          PREFIXES.datasets,
          PREFIXES.monitoring,
        ].map((p) => props.bucket.arnForObjects(`${p}*`)),
      }),
      new iam.PolicyStatement({
        sid: 'ListArtifacts',
        actions: ['s3:ListBucket'],
        resources: [props.bucket.bucketArn],
      }),
      new iam.PolicyStatement({
        sid: 'UploadData',
        // Datasets to train on, and files to monitor; never runs/, deployments/ or reports/.
        actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
        resources: [PREFIXES.datasets, PREFIXES.monitoring].map((p) => props.bucket.arnForObjects(`${p}*`)),
      }),
      new iam.PolicyStatement({
        sid: 'WriteRunPages',
        // `runs show --page` / `runs compare --page` render what the operator may read anyway into
        // reports/<model>/runs|comparisons/*.html (read back through a presigned URL); nothing
        // else under reports/ (drift reports and profiles are the monitoring functions').
        actions: ['s3:PutObject'],
        resources: RUN_PAGE_PATTERNS.map((p) => props.bucket.arnForObjects(p)),
      }),
      ...(props.jobLogGroups?.length
        ? [
            new iam.PolicyStatement({
              sid: 'FindJobs',
              // `runs logs` finds a run's job on the queue by name; neither action supports
              // resource-level permissions.
              actions: ['batch:ListJobs', 'batch:DescribeJobs'],
              resources: ['*'],
            }),
            new iam.PolicyStatement({
              sid: 'ReadJobLogs',
              actions: ['logs:GetLogEvents'],
              resources: props.jobLogGroups.map((g) =>
                stack.formatArn({
                  service: 'logs',
                  resource: 'log-group',
                  resourceName: `${g.logGroupName}:log-stream:*`,
                  arnFormat: ArnFormat.COLON_RESOURCE_NAME,
                }),
              ),
            }),
          ]
        : []),
    ];
    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      managedPolicyName: `${props.project}-operator`,
      description:
        'mlcycle --aws: control API, executions, registry reads, job logs, dataset and monitoring uploads',
      statements,
    });
    for (const statement of statements) {
      acknowledgeWildcards(
        this.policy,
        wildcardFindings(this, statement),
        'Route paths carry ids ({id}), and executions, objects and log streams are created at run time: each wildcard stands for one path segment, one execution name, the keys under one prefix or the streams of one log group of this stack; batch:ListJobs and batch:DescribeJobs support no resource-level permissions.',
      );
    }
  }
}

import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { HandlerName } from '../lambdas/contracts/handlers.js';
import { alertTopicName } from '../lambdas/contracts/names.js';
import { notificationRules } from '../lambdas/contracts/notifications.js';
import { acknowledge } from './nag.js';

export interface MonitoringProps {
  /** Prefix of resource names. */
  readonly project: string;
  /** The artifacts bucket whose uploads start the monitoring handlers. */
  readonly bucket: s3.IBucket;
  /**
   * Models to watch: uploads under `monitoring/<model>/baseline/` and `monitoring/<model>/batches/`
   * (the notification rules of lambdas/contracts/notifications.ts).
   */
  readonly models: readonly string[];
  /** The function behind each handler the notification rules name (baseline, drift). */
  readonly handlers: Readonly<Partial<Record<HandlerName, lambda.IFunction>>>;
  /** Functions invoked asynchronously (S3 events, schedules) whose failures nobody would see. */
  readonly asyncFunctions: readonly lambda.IFunction[];
  /** Addresses subscribed to alerts (config `monitoring.alerts.email`). */
  readonly alertEmails: readonly string[];
}

/**
 * Monitoring on S3 uploads and the alert channel: the S3 notifications per model, an encrypted,
 * TLS-only SNS topic with email subscriptions, a dead-letter queue for asynchronous invocations
 * that failed every retry (so no S3 event is lost), and alarms on that queue and on the
 * asynchronous functions' errors.
 */
export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly key: kms.Key;
  readonly deadLetters: sqs.Queue;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.key = new kms.Key(this, 'AlertsKey', {
      description: `${props.project}: encrypts the alert topic`,
      enableKeyRotation: true,
    });
    // CloudWatch alarms publish to the topic, so the service may use the key.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new sns.Topic(this, 'Alerts', {
      topicName: alertTopicName(props.project),
      displayName: `${props.project} alerts`,
      masterKey: this.key,
      enforceSSL: true,
    });
    for (const email of props.alertEmails)
      this.topic.addSubscription(new subscriptions.EmailSubscription(email));

    for (const rule of notificationRules(props.models)) {
      const fn = props.handlers[rule.handler];
      if (!fn) throw new Error(`uploads under ${rule.prefix} need the ${rule.handler} function`);
      props.bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.LambdaDestination(fn), {
        prefix: rule.prefix,
        ...(rule.suffix !== undefined ? { suffix: rule.suffix } : {}),
      });
    }

    this.deadLetters = new sqs.Queue(this, 'FailedInvocations', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(
      this.deadLetters,
      'AwsSolutions-SQS3',
      'This queue is itself the dead-letter destination of the asynchronous functions; nothing consumes it but an operator.',
    );
    const alarm = new cwActions.SnsAction(this.topic);
    for (const fn of props.asyncFunctions) {
      fn.configureAsyncInvoke({
        onFailure: new destinations.SqsDestination(this.deadLetters),
        retryAttempts: 2,
      });
      new cloudwatch.Alarm(this, `${fn.node.scope?.node.id ?? fn.node.id}Errors`, {
        alarmDescription: `${props.project}: ${fn.node.scope?.node.id ?? fn.node.id} failed`,
        metric: fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }).addAlarmAction(alarm);
    }
    new cloudwatch.Alarm(this, 'FailedInvocationsAlarm', {
      alarmDescription: `${props.project}: an event was given up after retries; it waits in the dead-letter queue`,
      metric: this.deadLetters.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }).addAlarmAction(alarm);
  }

  /** sns:Publish on the alert topic, with the key use that encrypted publishing needs. */
  grantPublish(grantee: iam.IGrantable & Construct): void {
    this.topic.grantPublish(grantee);
    acknowledge(
      grantee,
      'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      'Publishing to the encrypted alert topic needs the data-key actions on that one key (the set SNS documents).',
    );
  }
}

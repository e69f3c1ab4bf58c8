import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secrets from 'aws-cdk-lib/aws-secretsmanager';
import * as ses from 'aws-cdk-lib/aws-ses';
import { Construct } from 'constructs';
import { acknowledge } from './nag.js';

export interface ApprovalApiProps {
  /** Prefix of resource names. */
  readonly project: string;
  /** Serves `GET|HEAD|POST /approvals/{id}`. */
  readonly approvalHandler: lambda.IFunction;
  /** Serves `GET|HEAD /models/{name}/{stage}`. */
  readonly manifestHandler: lambda.IFunction;
  /** The SES identity approval emails come from (config `notifications.sender`). */
  readonly sender: string;
  /**
   * Stage throttling. Approval traffic is tiny; the manifest route is what clients poll.
   * @default 50 requests/s, burst 100
   */
  readonly throttle?: apigw.ThrottleSettings;
  /** @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The approval surface: an HTTP API (approval pages and client manifests, access-logged and
 * throttled), the Secrets Manager key that signs approval links, and the SES identity (with a
 * configuration set) the approval emails are sent from.
 *
 * HTTP APIs do not answer HEAD from a GET route, so HEAD has explicit routes: mail scanners
 * probe links with HEAD, and it must reach the handler that guarantees it changes nothing.
 */
export class ApprovalApi extends Construct {
  readonly api: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly signingKey: secrets.Secret;
  readonly identity: ses.EmailIdentity;
  readonly configurationSet: ses.ConfigurationSet;
  private readonly sender: string;

  constructor(scope: Construct, id: string, props: ApprovalApiProps) {
    super(scope, id);
    this.sender = props.sender;
    this.api = new apigw.HttpApi(this, 'Api', {
      apiName: `${props.project}-api`,
      description: 'mlcycle approval pages and client manifests',
      createDefaultStage: false,
    });
    this.stage = this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle ?? { rateLimit: 50, burstLimit: 100 },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(
          new logs.LogGroup(this, 'AccessLogs', {
            retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
          }),
        ),
      },
    });
    this.api.addRoutes({
      path: '/approvals/{id}',
      methods: [apigw.HttpMethod.GET, apigw.HttpMethod.HEAD, apigw.HttpMethod.POST],
      integration: new HttpLambdaIntegration('Approvals', props.approvalHandler),
    });
    this.api.addRoutes({
      path: '/models/{name}/{stage}',
      methods: [apigw.HttpMethod.GET, apigw.HttpMethod.HEAD],
      integration: new HttpLambdaIntegration('Manifests', props.manifestHandler),
    });
    acknowledge(
      this.api,
      'AwsSolutions-APIG4',
      'Approval routes authorise each request by the link’s HMAC signature, the approver it is bound to, its expiry and a ' +
        'per-page anti-forgery value (an IAM or Cognito authorizer would break emailed links); client manifests are public by design.',
    );

    this.signingKey = new secrets.Secret(this, 'SigningKey', {
      description: `${props.project}: HMAC key that signs approval links`,
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    acknowledge(
      this.signingKey,
      'AwsSolutions-SMG4',
      'Rotating the approval HMAC key invalidates every outstanding approval link; rotate it by hand when no approval is pending (docs/deploy.md).',
    );

    this.configurationSet = new ses.ConfigurationSet(this, 'Emails', {
      configurationSetName: `${props.project}-emails`,
      reputationMetrics: true,
      suppressionReasons: ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
    });
    this.identity = new ses.EmailIdentity(this, 'Sender', {
      identity: ses.Identity.email(props.sender),
      configurationSet: this.configurationSet,
    });
  }

  /** Base URL of the API, ending in `/`. */
  get url(): string {
    return this.stage.url;
  }

  /** Reading the signing key (the request-approval, approval-reminders and approval-http functions, no one else). */
  grantReadSigningKey(grantee: iam.IGrantable): void {
    this.signingKey.grantRead(grantee);
  }

  /**
   * ses:SendEmail from the sender address only, through its identity and configuration set.
   * While the account is in the SES sandbox, SES also authorises each recipient's identity, so
   * the recipients' identities (the approvers) are listed too.
   */
  grantSendEmail(grantee: iam.IGrantable, recipients: readonly string[] = []): void {
    const stack = Stack.of(this);
    const identity = (name: string) =>
      stack.formatArn({
        service: 'ses',
        resource: 'identity',
        resourceName: name,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      });
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'SendApprovalEmails',
        actions: ['ses:SendEmail'],
        resources: [
          identity(this.identity.emailIdentityName),
          ...[...new Set(recipients.map((r) => r.toLowerCase()))]
            .filter((r) => r !== this.sender.toLowerCase())
            .map(identity),
          stack.formatArn({
            service: 'ses',
            resource: 'configuration-set',
            resourceName: this.configurationSet.configurationSetName,
            arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
          }),
        ],
        conditions: { StringEquals: { 'ses:FromAddress': this.sender } },
      }),
    );
  }
}

import { ArnFormat, Stack } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secrets from 'aws-cdk-lib/aws-secretsmanager';
import * as ses from 'aws-cdk-lib/aws-ses';
import { Construct } from 'constructs';
import type { HandlerName } from '../lambdas/contracts/handlers.js';
import { HTTP_ROUTES, routeKey } from '../lambdas/contracts/routes.js';
import { vendedLogGroupName } from './log-groups.js';
import { acknowledge } from './nag.js';

/**
 * One JSON line per request, from HTTP API context variables only (CDK's default is the REST
 * API's common log format, whose caller, user and resourcePath fields log "-" on an HTTP API).
 * The path, never the query string: approval links carry their signed token there.
 */
export const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  time: '$context.requestTime',
  ip: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  method: '$context.httpMethod',
  routeKey: '$context.routeKey',
  path: '$context.path',
  protocol: '$context.protocol',
  status: '$context.status',
  responseLength: '$context.responseLength',
  latencyMs: '$context.responseLatency',
  integrationStatus: '$context.integration.status',
  integrationLatencyMs: '$context.integration.latency',
  integrationError: '$context.integration.error',
  error: '$context.error.message',
});

export interface ApprovalApiProps {
  /** Prefix of resource names. */
  readonly project: string;
  /**
   * The function behind each handler the routes contract (lambdas/contracts/routes.ts) names:
   * every route of the contract is declared, with its integration and authorisation.
   */
  readonly handlers: Readonly<Partial<Record<HandlerName, lambda.IFunction>>>;
  /** The address approval emails come from (config `notifications.sender`). */
  readonly sender: string;
  /**
   * Verify this domain (Easy DKIM) instead of the sender address: mail is DKIM-signed for the
   * domain and passes DMARC. Its three CNAME records are in `dkimRecords`.
   * @default - an address identity for `sender`, verified by a link SES mails to it
   */
  readonly senderDomain?: string;
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
  readonly accessLogGroup: logs.LogGroup;
  /** The DNS records that verify the domain identity (none for an address identity). */
  readonly dkimRecords: readonly ses.DkimRecord[];
  private readonly sender: string;
  /** The identity SES authorises sending against: the domain, or the sender address. */
  private readonly identityName: string;

  constructor(scope: Construct, id: string, props: ApprovalApiProps) {
    super(scope, id);
    this.sender = props.sender;
    this.identityName = props.senderDomain ?? props.sender;
    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      logGroupName: vendedLogGroupName('apigateway', `${props.project}-api`),
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
    });
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
        destination: new apigw.LogGroupLogDestination(this.accessLogGroup),
        format: AccessLogFormat.custom(ACCESS_LOG_FORMAT),
      },
    });
    // One integration per function; IAM authorisation on control routes (the caller signs with
    // SigV4 and the handler maps the principal to a person), none on link and manifest routes.
    const integrations = new Map<HandlerName, HttpLambdaIntegration>();
    const iamAuth = new HttpIamAuthorizer();
    for (const route of HTTP_ROUTES) {
      const fn = props.handlers[route.handler];
      if (!fn) throw new Error(`route ${routeKey(route)} needs the ${route.handler} function`);
      let integration = integrations.get(route.handler);
      if (!integration) {
        integration = new HttpLambdaIntegration(`${route.handler}Integration`, fn);
        integrations.set(route.handler, integration);
      }
      this.api.addRoutes({
        path: route.path,
        methods: [apigw.HttpMethod[route.method]],
        integration,
        ...(route.auth === 'iam' ? { authorizer: iamAuth } : {}),
      });
    }
    acknowledge(
      this.api,
      'AwsSolutions-APIG4',
      'Control routes (runs, promotions, rollbacks, registrations, CLI decisions) use the IAM authorizer. Approval-link routes ' +
        'authorise each request by the link’s HMAC signature, the approver it is bound to, its expiry and a per-page anti-forgery ' +
        'value (an IAM or Cognito authorizer would break emailed links); client manifests are public by design.',
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
    // A domain identity signs with Easy DKIM (2048-bit keys SES rotates); an address identity is
    // for trials: it sends once its owner clicks SES's link, but unsigned mail from a domain that
    // publishes DMARC is likely to land in spam.
    this.identity = new ses.EmailIdentity(this, 'Sender', {
      identity: props.senderDomain
        ? ses.Identity.domain(props.senderDomain)
        : ses.Identity.email(props.sender),
      configurationSet: this.configurationSet,
      ...(props.senderDomain ? { dkimSigning: true, dkimIdentity: ses.DkimIdentity.easyDkim() } : {}),
    });
    this.dkimRecords = props.senderDomain ? this.identity.dkimRecords : [];
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
   * ses:SendEmail from the sender address only, through its identity (the domain or the address)
   * and configuration set.
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
          identity(this.identityName),
          ...[...new Set(recipients.map((r) => r.toLowerCase()))]
            .filter((r) => r !== this.identityName.toLowerCase())
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

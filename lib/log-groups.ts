import { Aws, Fn } from 'aws-cdk-lib';

/**
 * A log group name under `/aws/vendedlogs/<service>/`, the prefix AWS recommends for services
 * that deliver logs themselves (Step Functions, API Gateway): CloudWatch Logs then needs no
 * per-log-group entry in the account's resource policy, whose 5,120-character limit busy
 * accounts reach. The stack's own id ends the name, because log groups outlive a deleted stack
 * and a fixed name would make the next deploy collide with the retained one.
 */
export function vendedLogGroupName(service: 'states' | 'apigateway', name: string): string {
  const stackUuid = Fn.select(2, Fn.split('/', Aws.STACK_ID));
  return `/aws/vendedlogs/${service}/${name}-${stackUuid}`;
}

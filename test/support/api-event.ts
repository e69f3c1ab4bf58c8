import type { APIGatewayProxyEventV2 } from 'aws-lambda';

/** The account the handler tests' principals live in. */
export const API_ACCOUNT = '111122223333';

/**
 * A payload-2.0 event of a control route as API Gateway delivers it: the route key's method and
 * path template, the path filled from `pathParameters`, a JSON body, and what the authorizer
 * established — an IAM principal (`iam` routes on AWS) or the local authorizer's actor.
 */
export function apiEvent(
  routeKey: string,
  options: {
    pathParameters?: Record<string, string>;
    principal?: string;
    localActor?: string;
    body?: unknown;
    headers?: Record<string, string>;
  } = {},
): APIGatewayProxyEventV2 {
  const [method, template] = routeKey.split(' ') as [string, string];
  const params = options.pathParameters;
  const rawPath = template.replace(/\{(\w+)\}/g, (all, name: string) => params?.[name] ?? all);
  const authorizer = {
    ...(options.principal
      ? {
          iam: {
            accessKey: 'ASIAEXAMPLE',
            accountId: API_ACCOUNT,
            callerId: 'AIDAEXAMPLE',
            principalOrgId: null,
            userArn: options.principal,
            userId: 'AIDAEXAMPLE',
          },
        }
      : {}),
    ...(options.localActor ? { lambda: { localActor: options.localActor } } : {}),
  };
  return {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...options.headers },
    ...(params ? { pathParameters: params } : {}),
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    isBase64Encoded: false,
    requestContext: {
      accountId: API_ACCOUNT,
      apiId: 'a1b2c3d4e5',
      domainName: 'a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com',
      domainPrefix: 'a1b2c3d4e5',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '198.51.100.7', userAgent: 'mlcycle' },
      requestId: 'req',
      routeKey,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
      ...(Object.keys(authorizer).length ? { authorizer } : {}),
    },
  } as APIGatewayProxyEventV2;
}

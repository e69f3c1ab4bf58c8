import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { HTTP_ROUTES, type RouteContract, routeKey } from '../lambdas/contracts/routes.js';
import {
  HTTP_API_MAX_BODY_BYTES,
  lingerBeforeClose,
  PayloadTooLargeError,
  readBodyWithin,
} from './http-body.js';
import type { LocalLambdas } from './lambdas.js';
import { listen } from './listen.js';

/** A route of the HTTP API: the contract's routes, which the CDK stack declares too. */
export type LocalRoute = RouteContract;

/**
 * Header the CLI sets with the `--as` name on the embedded default, where it stands in for
 * API Gateway's IAM authorizer on `iam` routes (a local convenience: nothing authenticates it).
 */
export const LOCAL_ACTOR_HEADER = 'x-mlcycle-actor';

function match(route: LocalRoute, method: string, path: string): Record<string, string> | undefined {
  if (route.method !== method) return undefined;
  const want = route.path.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i] as string;
    const g = got[i] as string;
    if (w.startsWith('{') && w.endsWith('}')) {
      if (!g) return undefined;
      params[w.slice(1, -1)] = decodeURIComponent(g);
    } else if (w !== g) return undefined;
  }
  return params;
}

async function toEvent(req: IncomingMessage, route: LocalRoute, params: Record<string, string>) {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const body = await readBodyWithin(req, HTTP_API_MAX_BODY_BYTES);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers))
    if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = v;
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: routeKey(route),
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: Object.keys(query).length ? query : undefined,
    pathParameters: params,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: `${Date.now()}`,
      routeKey: routeKey(route),
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
      // Where API Gateway puts what its authorizer established; only `iam` routes get one.
      ...(route.auth === 'iam' && headers[LOCAL_ACTOR_HEADER]
        ? { authorizer: { lambda: { localActor: headers[LOCAL_ACTOR_HEADER] } } }
        : {}),
    },
    body: body.length ? body.toString('base64') : undefined,
    isBase64Encoded: body.length > 0,
    stageVariables: undefined,
  };
  return event;
}

function send(res: ServerResponse, method: string, result: APIGatewayProxyStructuredResultV2 | string) {
  const r: APIGatewayProxyStructuredResultV2 =
    typeof result === 'string' ? { statusCode: 200, body: result } : result;
  const headers: Record<string, string | number | boolean> = { ...(r.headers ?? {}) };
  const body = r.body ? Buffer.from(r.body, r.isBase64Encoded ? 'base64' : 'utf8') : Buffer.alloc(0);
  res.writeHead(r.statusCode ?? 200, headers as Record<string, string>);
  if (r.cookies?.length) res.setHeader('set-cookie', r.cookies);
  // API Gateway sends no body for HEAD, whatever the integration returned.
  res.end(method === 'HEAD' ? undefined : body);
}

/**
 * The stack's HTTP API on loopback: requests become payload-v2 events for the same handlers.
 */
export async function startLocalApi(
  lambdas: Pick<LocalLambdas, 'invoke'>,
  options: { port?: number; routes?: readonly LocalRoute[]; log?: (line: string) => void } = {},
): Promise<{ url: string; server: Server; routes: readonly LocalRoute[]; close(): Promise<void> }> {
  const routes = options.routes ?? HTTP_ROUTES;
  const log = options.log ?? ((line: string) => console.error(line));
  const server = createServer(async (req, res) => {
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    for (const route of routes) {
      const params = match(route, method, path);
      if (!params) continue;
      try {
        const event = await toEvent(req, route, params);
        const result = (await lambdas.invoke(route.handler, event)) as APIGatewayProxyStructuredResultV2;
        send(res, method, result);
      } catch (err) {
        if (err instanceof PayloadTooLargeError) {
          // API Gateway refuses it before any integration runs; the unread rest of the body is
          // not worth draining, so the connection closes after this answer.
          lingerBeforeClose(req.socket);
          send(res, method, {
            statusCode: 413,
            headers: { 'content-type': 'application/json', connection: 'close' },
            body: JSON.stringify({ message: 'Request Entity Too Large' }),
          });
          return;
        }
        // As API Gateway answers when the integration itself fails: nothing about the cause
        // reaches the caller; the detail goes to the local log (CloudWatch's place on AWS).
        const e = err as Error;
        log(`HTTP ${method} ${path} (${route.handler}) failed: ${e.name}: ${e.message}`);
        send(res, method, {
          statusCode: 500,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ message: 'Internal Server Error' }),
        });
      }
      return;
    }
    send(res, method, {
      statusCode: 404,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'Not Found' }),
    });
  });
  const { port } = await listen(server, options.port ?? 0);
  return {
    url: `http://127.0.0.1:${port}/`,
    server,
    routes,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

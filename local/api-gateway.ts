import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { openServedArtifact } from '../lambdas/adapters/registry/served-artifact.js';
import type { S3Objects } from '../lambdas/adapters/s3-objects.js';
import {
  DOWNLOAD_CACHE_CONTROL,
  DOWNLOAD_ROUTE,
  HTTP_ROUTES,
  REPORT_PAGE_CSP,
  REPORT_PAGE_ROUTE,
  type RouteContract,
  routeKey,
} from '../lambdas/contracts/routes.js';
import { parseRunPageKey } from '../lambdas/contracts/s3-layout.js';
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

function match(
  route: { readonly method: string; readonly path: string },
  method: string,
  path: string,
): Record<string, string> | undefined {
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

/** Where the local gateway finds served artifacts: the local bucket. */
export interface LocalDownloads {
  readonly objects: S3Objects;
  readonly bucket: string;
}

/**
 * GET/HEAD /downloads/{model}/{sha256}/{file}: what CloudFront's bucket origin serves on AWS, at
 * the same path: the served copy streamed from the local bucket, ETag its sha256, immutable.
 * Anything else under /downloads (a key outside the served copies, a bad name) is a 404 naming it.
 */
async function serveDownload(
  downloads: LocalDownloads,
  req: IncomingMessage,
  res: ServerResponse,
  params: Record<string, string>,
): Promise<void> {
  const method = req.method ?? 'GET';
  const parts = { model: params.model ?? '', sha256: params.sha256 ?? '', file: params.file ?? '' };
  const found = await openServedArtifact(downloads.objects, downloads.bucket, parts);
  if (!found) {
    send(res, method, {
      statusCode: 404,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        message: `no served artifact ${parts.model}/${parts.sha256}/${parts.file}: take the download URL from GET /models/<model>/<stage>`,
      }),
    });
    return;
  }
  const etag = `"${parts.sha256}"`;
  const headers = { etag, 'cache-control': DOWNLOAD_CACHE_CONTROL };
  if (req.headers['if-none-match']?.split(',').some((t) => t.trim() === etag)) {
    found.body.destroy();
    res.writeHead(304, headers);
    res.end();
    return;
  }
  res.writeHead(200, { ...headers, 'content-type': found.contentType, 'content-length': String(found.size) });
  if (method === 'HEAD') {
    found.body.destroy();
    res.end();
    return;
  }
  await pipeline(found.body, res);
}

/**
 * GET /reports/{model}/{kind}/{file}: a run or comparison page from the local bucket, at its key
 * (on AWS the CLI prints a presigned URL instead). Only page keys are served, as inert HTML.
 */
async function servePage(
  bucket: LocalDownloads,
  method: string,
  res: ServerResponse,
  params: Record<string, string>,
): Promise<void> {
  const key = `reports/${params.model}/${params.kind}/${params.file}`;
  const head = parseRunPageKey(key) ? await bucket.objects.head({ bucket: bucket.bucket, key }) : undefined;
  if (!head) {
    send(res, method, {
      statusCode: 404,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        message: `no page ${key}: \`mlcycle runs show <run> --page\` (or runs compare … --page) writes one and prints its URL`,
      }),
    });
    return;
  }
  const body = await bucket.objects.getBytes({ bucket: bucket.bucket, key });
  send(res, method, {
    statusCode: 200,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': REPORT_PAGE_CSP,
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
    },
    body: body.toString('utf8'),
  });
}

/**
 * The stack's HTTP API on loopback: requests become payload-v2 events for the same handlers.
 */
export async function startLocalApi(
  lambdas: Pick<LocalLambdas, 'invoke'>,
  options: {
    port?: number;
    routes?: readonly LocalRoute[];
    log?: (line: string) => void;
    /** Serve the public download route from this bucket (what the CDN serves on AWS). */
    downloads?: LocalDownloads;
  } = {},
): Promise<{ url: string; server: Server; routes: readonly LocalRoute[]; close(): Promise<void> }> {
  const routes = options.routes ?? HTTP_ROUTES;
  const log = options.log ?? ((line: string) => console.error(line));
  const server = createServer(async (req, res) => {
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const download = DOWNLOAD_ROUTE.methods.includes(method as 'GET' | 'HEAD')
      ? match({ method, path: DOWNLOAD_ROUTE.path }, method, path)
      : undefined;
    if (download && options.downloads) {
      try {
        await serveDownload(options.downloads, req, res, download);
      } catch (err) {
        const e = err as Error;
        log(`HTTP ${method} ${path} (downloads) failed: ${e.name}: ${e.message}`);
        if (!res.headersSent)
          send(res, method, { statusCode: 500, body: '{"message":"Internal Server Error"}' });
        else res.destroy();
      }
      return;
    }
    const report = options.downloads
      ? match({ method: REPORT_PAGE_ROUTE.methods[0], path: REPORT_PAGE_ROUTE.path }, method, path)
      : undefined;
    if (report && options.downloads) {
      await servePage(options.downloads, method, res, report).catch((err: Error) => {
        log(`HTTP ${method} ${path} (reports) failed: ${err.name}: ${err.message}`);
        if (!res.headersSent)
          send(res, method, { statusCode: 500, body: '{"message":"Internal Server Error"}' });
      });
      return;
    }
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

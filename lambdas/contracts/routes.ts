import type { HandlerName } from './handlers.js';

/**
 * How a route knows its caller: `link` routes authorise each request themselves (the approval
 * link's HMAC signature) or are public (client manifests); `iam` routes are SigV4-signed and
 * checked by API Gateway's IAM authorizer on AWS, and carry the `--as` name locally.
 */
export type RouteAuth = 'link' | 'iam';

export interface RouteContract {
  readonly method: 'GET' | 'HEAD' | 'POST';
  /** `/approvals/{id}` style; `{x}` matches one path segment. */
  readonly path: string;
  readonly handler: HandlerName;
  readonly auth: RouteAuth;
}

/**
 * The HTTP API, route by route: the CDK stack declares exactly these, and the embedded default's
 * gateway serves exactly these.
 */
export const HTTP_ROUTES: readonly RouteContract[] = [
  { method: 'GET', path: '/approvals/{id}', handler: 'approvalHttp', auth: 'link' },
  // Mail scanners probe links with HEAD; HTTP APIs do not answer HEAD from a GET route.
  { method: 'HEAD', path: '/approvals/{id}', handler: 'approvalHttp', auth: 'link' },
  { method: 'POST', path: '/approvals/{id}', handler: 'approvalHttp', auth: 'link' },
  { method: 'GET', path: '/models/{name}/{stage}', handler: 'manifestHttp', auth: 'link' },
  { method: 'HEAD', path: '/models/{name}/{stage}', handler: 'manifestHttp', auth: 'link' },
  { method: 'POST', path: '/runs', handler: 'startHttp', auth: 'iam' },
  { method: 'POST', path: '/promotions', handler: 'startHttp', auth: 'iam' },
  { method: 'POST', path: '/rollbacks', handler: 'registryHttp', auth: 'iam' },
  { method: 'POST', path: '/versions', handler: 'registryHttp', auth: 'iam' },
  { method: 'GET', path: '/whoami', handler: 'registryHttp', auth: 'iam' },
  { method: 'POST', path: '/approvals/{id}/decisions', handler: 'decisionHttp', auth: 'iam' },
  // Baseline versions and discarded batches (docs/monitoring.md): listed and decided as the caller.
  { method: 'GET', path: '/drift/{model}/baselines', handler: 'monitoringHttp', auth: 'iam' },
  { method: 'POST', path: '/drift/{model}/baselines/use', handler: 'monitoringHttp', auth: 'iam' },
  { method: 'POST', path: '/drift/{model}/baselines/discard', handler: 'monitoringHttp', auth: 'iam' },
  { method: 'POST', path: '/drift/{model}/batches/discard', handler: 'monitoringHttp', auth: 'iam' },
];

/** The person acting, and the AWS principal that proved it (null locally): `GET /whoami`'s answer. */
export interface Caller {
  readonly person: string;
  readonly principal: string | null;
}

/** The route key API Gateway puts in `event.routeKey`, e.g. `POST /runs`. */
export const routeKey = (route: Pick<RouteContract, 'method' | 'path'>) => `${route.method} ${route.path}`;

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
  { method: 'POST', path: '/runs/{model}/{run}/cancel', handler: 'runControlHttp', auth: 'iam' },
  { method: 'POST', path: '/sweeps/{id}/stop', handler: 'runControlHttp', auth: 'iam' },
  { method: 'POST', path: '/rollbacks', handler: 'registryHttp', auth: 'iam' },
  { method: 'POST', path: '/versions', handler: 'registryHttp', auth: 'iam' },
  { method: 'GET', path: '/whoami', handler: 'registryHttp', auth: 'iam' },
  // Where a model stands (contracts/status.ts): read-only, signed-in on AWS.
  { method: 'GET', path: '/status/{model}', handler: 'statusHttp', auth: 'iam' },
  { method: 'POST', path: '/approvals/{id}/decisions', handler: 'decisionHttp', auth: 'iam' },
  // Running rollouts (docs/rollouts.md): status, ramp and abort as the caller; a start is a promotion.
  { method: 'GET', path: '/rollouts/{model}/{stage}', handler: 'rolloutHttp', auth: 'iam' },
  { method: 'POST', path: '/rollouts/{model}/{stage}/ramp', handler: 'rolloutHttp', auth: 'iam' },
  { method: 'POST', path: '/rollouts/{model}/{stage}/abort', handler: 'rolloutHttp', auth: 'iam' },
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

/**
 * What game clients read, through the CDN on AWS (lib/client-distribution.ts) and straight from
 * the local gateway on the embedded default, at the same paths (only the base URL differs):
 * manifests from the HTTP API (short cache, ETag revalidation, invalidated on every stage change)
 * and served artifacts from the bucket's downloads/ prefix (immutable, cached for a year).
 */
export const CLIENT_PATHS = {
  /** `/models/{name}/{stage}`: the HTTP API's manifest route (HTTP_ROUTES). */
  manifests: { pattern: '/models/*', origin: 'api' },
  /** `/downloads/<model>/<sha256>/<file>`: the object at the same key (s3-layout downloadKey). */
  downloads: { pattern: '/downloads/*', origin: 'bucket' },
} as const;

/** The public download route the local gateway serves from the local bucket (CloudFront's S3 origin on AWS). */
export const DOWNLOAD_ROUTE = {
  path: '/downloads/{model}/{sha256}/{file}',
  methods: ['GET', 'HEAD'],
} as const;

/** Cache-Control of a manifest: clients revalidate after 30 s, CDN edges after 60 s (or on invalidation). */
export const MANIFEST_CACHE_CONTROL = 'public, max-age=30, s-maxage=60';
/** Cache-Control of a served artifact: its key is its sha256, so it never changes. */
export const DOWNLOAD_CACHE_CONTROL = 'public, max-age=31536000, immutable';

/** The URL a client downloads a served artifact from: the client base URL and its key as a path. */
export function downloadUrl(baseUrl: string, key: string): string {
  return `${baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`}${key}`;
}

/** The path of a stage's manifest, under the same base URL. */
export const manifestPath = (model: string, stage: string) => `/models/${model}/${stage}`;

/** The path of a model's status (what serves, the last run, pending approvals, drift, cleanup). */
export const statusPath = (model: string) => `/status/${model}`;

/** A path under a base URL, whatever the base's trailing slash. */
export const underBase = (baseUrl: string, path: string) => `${baseUrl.replace(/\/+$/, '')}${path}`;

/**
 * Run and comparison pages (s3-layout runPageKey, comparisonPageKey) as the embedded default's
 * gateway serves them from the local bucket, at their key as the path. On AWS the CLI prints a
 * presigned GET URL of the object instead (15 minutes), so no route of the API serves them.
 */
export const REPORT_PAGE_ROUTE = { path: '/reports/{model}/{kind}/{file}', methods: ['GET'] } as const;
/** Pages are inert: no scripts, no external assets, nothing but their inline styles and SVG. */
export const REPORT_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";
/** How long the presigned URL of a page stays valid on AWS. */
export const REPORT_PAGE_URL_SECONDS = 15 * 60;

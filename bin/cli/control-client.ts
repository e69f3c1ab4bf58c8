import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import {
  ApprovalExpired,
  ConflictError,
  ForbiddenError,
  IllegalTransitionError,
  type MlcycleError,
  NotFoundError,
  TransientError,
  ValidationError,
} from '../../lambdas/domain/errors.js';
import { LOCAL_ACTOR_HEADER } from '../../local/api-gateway.js';

/**
 * How the CLI proves who it is to the control API: on AWS a SigV4 signature with the caller's
 * own credentials (API Gateway's IAM authorizer checks it, and the stack maps the principal to a
 * person); locally the `--as` name in a header, which only the embedded default's gateway reads.
 */
export type ControlAuth =
  | { readonly kind: 'iam'; readonly region: string; readonly credentials: AwsCredentialIdentityProvider }
  | { readonly kind: 'local'; readonly actor: string };

const ERRORS: Record<string, new (message: string) => MlcycleError> = {
  ValidationError,
  NotFoundError,
  ConflictError,
  IllegalTransitionError,
  ForbiddenError,
  ApprovalExpired,
  TransientError,
};

/** An answer the control API gave that is not a success, as the domain error it names. */
function errorOf(status: number, body: unknown, path: string): Error {
  const b = (body ?? {}) as { error?: string; message?: string };
  const message = b.message ?? `${path} answered ${status}`;
  const known = b.error ? ERRORS[b.error] : undefined;
  if (known) return new known(message);
  if (status === 403)
    return new ForbiddenError(`${message} (is your AWS principal allowed to call the mlcycle API?)`);
  if (status === 404) return new NotFoundError(message);
  if (status >= 400 && status < 500) return new ValidationError(message);
  return new Error(`${path} answered ${status}: ${message}`);
}

/** The control routes of the stack's HTTP API (lambdas/contracts/routes.ts), as the CLI calls them. */
export class ControlClient {
  constructor(
    private readonly baseUrl: string,
    private readonly auth: ControlAuth,
    private readonly fetchFn: typeof fetch = fetch,
  ) {}

  async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const url = new URL(
      path.replace(/^\//, ''),
      this.baseUrl.endsWith('/') ? this.baseUrl : `${this.baseUrl}/`,
    );
    const text = body === undefined ? undefined : JSON.stringify(body);
    let headers: Record<string, string> = {
      host: url.host,
      accept: 'application/json',
      ...(text === undefined ? {} : { 'content-type': 'application/json' }),
    };
    if (this.auth.kind === 'local') headers[LOCAL_ACTOR_HEADER] = this.auth.actor;
    else {
      const signer = new SignatureV4({
        service: 'execute-api',
        region: this.auth.region,
        credentials: this.auth.credentials,
        sha256: Hash.bind(null, 'sha256'),
      });
      const query: Record<string, string> = {};
      for (const [k, v] of url.searchParams) query[k] = v;
      const signed = await signer.sign({
        method,
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: url.pathname,
        query,
        headers,
        ...(text === undefined ? {} : { body: text }),
      });
      headers = signed.headers as Record<string, string>;
    }
    const { host: _host, ...sent } = headers;
    const res = await this.fetchFn(url, {
      method,
      headers: sent,
      ...(text === undefined ? {} : { body: text }),
    });
    const raw = await res.text();
    let parsed: unknown;
    try {
      parsed = raw ? JSON.parse(raw) : undefined;
    } catch {
      parsed = { message: raw.slice(0, 200) };
    }
    if (!res.ok) throw errorOf(res.status, parsed, `${method} ${url.pathname}`);
    return parsed as T;
  }
}

import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { isMlcycleError, ValidationError } from '../../domain/errors.js';
import { correlationIds, type LambdaHandler, lambdaHandler } from './lambda.js';

export type HttpResult = APIGatewayProxyStructuredResultV2;

const JSON_HEADERS = { 'content-type': 'application/json', 'cache-control': 'no-store' };

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

/** What an HTML page of the approval links is answered with: no caching, framing, scripts or referrer. */
const HTML_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};

export function html(statusCode: number, body: string, headers: Record<string, string> = {}): HttpResult {
  return { statusCode, headers: { ...HTML_HEADERS, ...headers }, body };
}

/** The request body, decoded. */
function bodyText(event: APIGatewayProxyEventV2): string {
  if (!event.body) return '';
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}

/** A form's fields (application/x-www-form-urlencoded). */
export function formFields(event: APIGatewayProxyEventV2): URLSearchParams {
  return new URLSearchParams(bodyText(event));
}

/** The request body as JSON; a body that is not JSON is the caller's mistake (400). */
export function jsonBody(event: APIGatewayProxyEventV2): unknown {
  if (!event.body) return {};
  const text = bodyText(event);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ValidationError('the request body is not JSON', undefined, { cause: err });
  }
}

/**
 * The answer for an error: a domain error says what was wrong with its own status; anything
 * else is logged and answered 500 without internals (as API Gateway does).
 */
export function errorResult(err: unknown, logger: Logger): HttpResult {
  if (isMlcycleError(err)) return json(err.status, { error: err.name, message: err.message });
  logger.error('request failed', err as Error);
  return json(500, { message: 'Internal Server Error' });
}

/**
 * A JSON route's handler: the kit wrapper (the API Gateway request id as correlation id), and
 * every error answered by errorResult.
 */
export function httpHandler(
  logger: Logger,
  handle: (event: APIGatewayProxyEventV2) => Promise<HttpResult>,
): LambdaHandler<APIGatewayProxyEventV2, HttpResult> {
  return lambdaHandler(logger, correlationIds.http, async (event: APIGatewayProxyEventV2) => {
    try {
      return await handle(event);
    } catch (err) {
      return errorResult(err, logger);
    }
  });
}

import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { HANDLERS, type HandlerName } from '../lambdas/contracts/handlers.js';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './emulators/local-aws.js';

type AnyHandler = (event: unknown, context: Context) => Promise<unknown>;

export function localFunctionName(name: HandlerName): string {
  return `mlcycle-local-${name}`;
}

export function localFunctionArn(name: HandlerName): string {
  return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${localFunctionName(name)}`;
}

/**
 * The embedded default's Lambda service: the same handler files the CDK stack bundles, imported
 * in-process and invoked with a Lambda-shaped context. Events and results go through JSON, as
 * they do on AWS, so nothing non-serialisable leaks between states.
 */
export class LocalLambdas {
  private readonly loaded = new Map<HandlerName, Promise<AnyHandler>>();

  constructor(private readonly root: string) {}

  private load(name: HandlerName): Promise<AnyHandler> {
    let handler = this.loaded.get(name);
    if (!handler) {
      const file = pathToFileURL(resolve(this.root, HANDLERS[name].entry)).href;
      handler = import(file).then((mod: { handler?: AnyHandler }) => {
        if (typeof mod.handler !== 'function') throw new Error(`${HANDLERS[name].entry} exports no handler`);
        return mod.handler;
      });
      this.loaded.set(name, handler);
    }
    return handler;
  }

  /** Resolves a function name or ARN (as a Task's Resource or FunctionName holds it). */
  nameOf(functionNameOrArn: string): HandlerName {
    const fn = functionNameOrArn.split(':').pop() ?? functionNameOrArn;
    const found = (Object.keys(HANDLERS) as HandlerName[]).find((n) => localFunctionName(n) === fn);
    if (!found) throw new Error(`no local function named ${functionNameOrArn}`);
    return found;
  }

  async invoke(name: HandlerName, event: unknown): Promise<unknown> {
    const handler = await this.load(name);
    const started = Date.now();
    const timeoutMs = HANDLERS[name].timeoutSeconds * 1000;
    const context: Context = {
      callbackWaitsForEmptyEventLoop: false,
      functionName: localFunctionName(name),
      functionVersion: '$LATEST',
      invokedFunctionArn: localFunctionArn(name),
      memoryLimitInMB: String(HANDLERS[name].memoryMb),
      awsRequestId: randomUUID(),
      logGroupName: `/aws/lambda/${localFunctionName(name)}`,
      logStreamName: 'local',
      getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (Date.now() - started)),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    };
    const result = await handler(JSON.parse(JSON.stringify(event ?? null)), context);
    return result === undefined ? null : JSON.parse(JSON.stringify(result));
  }
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CfnElement } from 'aws-cdk-lib';
import type { S3EventRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/adapters/config-file.js';
import type { MlcycleConfig } from '../../lambdas/contracts/config-schema.js';
import { ENV, type EnvName } from '../../lambdas/contracts/env.js';
import {
  AWS_ONLY_ENV,
  functionEnvironments,
  RUNTIME_ENV,
  STAND_INS,
  sharedEnvironment,
} from '../../lambdas/contracts/function-env.js';
import { HANDLERS, type HandlerContract, type HandlerName } from '../../lambdas/contracts/handlers.js';
import type { NotificationRule } from '../../lambdas/contracts/notifications.js';
import {
  CLIENT_PATHS,
  DOWNLOAD_ROUTE,
  type RouteAuth,
  type RouteContract,
} from '../../lambdas/contracts/routes.js';
import { aslPlaceholders, substitute } from '../../lambdas/contracts/state-machine.js';
import { LOCAL_ACTOR_HEADER, startLocalApi } from '../../local/api-gateway.js';
import {
  type LocalStack,
  localNotifications,
  localSubstitutions,
  startLocalStack,
} from '../../local/runtime.js';
import { contractScheduleJobs } from '../../local/scheduler/scheduler.js';
import { defaultRawConfig, refOf, resourcesOf, type SynthesizedApp, synthApp } from './support.js';

/**
 * Issue 10: the CDK stack and the embedded default are wired from the same contracts
 * (lambdas/contracts/). Each config is synthesised and started locally, and the two are compared
 * fact by fact: HTTP routes, S3 notification rules, the environment of every function, and the
 * state machine's substitutions.
 */

const raw = defaultRawConfig() as Record<string, Record<string, unknown>>;
const CONFIGS: Record<string, unknown> = {
  // One model, no drift retraining.
  default: raw,
  // Two models (a rule pair each), and drift given the state machine to retrain on critical drift.
  'two models, retrain on critical': {
    ...raw,
    models: { churn: raw.models?.churn, ltv: raw.models?.churn },
    monitoring: { ...raw.monitoring, retrainOnCritical: { enabled: true } },
  },
};

describe.each(Object.entries(CONFIGS))(
  'the stack and the embedded default agree (%s config)',
  (_, rawConfig) => {
    let aws: SynthesizedApp;
    let config: MlcycleConfig;
    let local: LocalStack;
    let dir: string;
    beforeAll(async () => {
      config = parseConfig(rawConfig, 'test config');
      aws = synthApp(rawConfig, { bundle: false });
      dir = mkdtempSync(join(tmpdir(), 'mlcycle-wiring-'));
      local = await startLocalStack({ config, dir, fresh: true });
    });
    afterAll(async () => {
      await local?.stop();
      aws?.dispose();
      rmSync(dir, { recursive: true, force: true });
    });

    const resources = () =>
      aws.template.toJSON().Resources as Record<string, { Properties: Record<string, unknown> }>;
    /** The handler whose function a logical id (or a `Fn::GetAtt` on it) names. */
    const handlerOf = (ref: unknown): HandlerName => {
      const id = refOf(ref);
      const found = (Object.keys(HANDLERS) as HandlerName[]).find(
        (name) =>
          aws.stack.getLogicalId(aws.stack.functions.get(name).node.defaultChild as CfnElement) === id,
      );
      if (!found) throw new Error(`${id} is no function of the contract`);
      return found;
    };

    it('serve the same HTTP routes: method, path, handler and authorisation', async () => {
      const AUTH: Record<string, RouteAuth> = { AWS_IAM: 'iam', NONE: 'link' };
      const stackRoutes = resourcesOf(aws.template, 'AWS::ApiGatewayV2::Route').map(([, r]) => {
        const p = r.Properties as { RouteKey: string; AuthorizationType: string; Target: unknown };
        const [method, path] = p.RouteKey.split(' ') as [RouteContract['method'], string];
        const integration = (JSON.stringify(p.Target).match(/"Ref":"([^"]+)"/) ?? [])[1] as string;
        const uri = resources()[integration]?.Properties.IntegrationUri;
        return { method, path, handler: handlerOf(uri), auth: AUTH[p.AuthorizationType] as RouteAuth };
      });
      expect(stackRoutes.length).toBeGreaterThan(5);
      expect(sortedRoutes(local.routes)).toEqual(sortedRoutes(stackRoutes));

      // And the local gateway sends each of them where API Gateway does, believing the caller's
      // name on `iam` routes only (what IAM establishes on AWS).
      const invoked: { handler: HandlerName; routeKey: string; actor: unknown }[] = [];
      const api = await startLocalApi(
        {
          async invoke(handler, event) {
            const e = event as { routeKey: string; requestContext: { authorizer?: { lambda?: unknown } } };
            invoked.push({ handler, routeKey: e.routeKey, actor: e.requestContext.authorizer?.lambda });
            return { statusCode: 204 };
          },
        },
        { log: () => undefined },
      );
      try {
        for (const route of stackRoutes) {
          const path = route.path.replace(/\{(\w+)\}/g, 'some-$1').slice(1);
          const res = await fetch(`${api.url}${path}`, {
            method: route.method,
            headers: { [LOCAL_ACTOR_HEADER]: 'someone@studio.test' },
          });
          expect(res.status, `${route.method} ${route.path}`).toBe(204);
        }
      } finally {
        await api.close();
      }
      expect(invoked).toEqual(
        stackRoutes.map((r) => ({
          handler: r.handler,
          routeKey: `${r.method} ${r.path}`,
          actor: r.auth === 'iam' ? { localActor: 'someone@studio.test' } : undefined,
        })),
      );
    });

    it('serve what game clients read at the same paths: manifests from the API, downloads from the bucket', async () => {
      // The stack: one distribution, /models/* to the HTTP API, everything else (downloads/…) to the
      // bucket with no origin path, so a URL's path is the object's key.
      const [[, dist] = ['', { Properties: {} }]] = resourcesOf(
        aws.template,
        'AWS::CloudFront::Distribution',
      );
      const d = (dist.Properties as { DistributionConfig: Record<string, unknown> }).DistributionConfig as {
        Origins: { Id: string; S3OriginConfig?: unknown; OriginPath?: string }[];
        DefaultCacheBehavior: { TargetOriginId: string };
        CacheBehaviors: { PathPattern: string; TargetOriginId: string }[];
      };
      const bucketOrigin = d.Origins.find((o) => o.S3OriginConfig);
      expect(d.DefaultCacheBehavior.TargetOriginId).toBe(bucketOrigin?.Id);
      expect(bucketOrigin?.OriginPath).toBeUndefined();
      expect(d.CacheBehaviors.map((b) => b.PathPattern)).toEqual([CLIENT_PATHS.manifests.pattern]);
      // The embedded default: the manifest route is an HTTP route (above); the download route is
      // answered by the gateway itself from the local bucket, at the same path.
      expect(local.routes.some((r) => r.path.startsWith(CLIENT_PATHS.manifests.pattern.slice(0, -1)))).toBe(
        true,
      );
      const res = await fetch(`${local.endpoints.api}downloads/churn/${'0'.repeat(64)}/model.tar.gz`);
      expect(res.status).toBe(404);
      expect(((await res.json()) as { message: string }).message).toMatch(/^no served artifact churn\//);
      expect(DOWNLOAD_ROUTE.path.startsWith(CLIENT_PATHS.downloads.pattern.slice(0, -1))).toBe(true);
    });

    it('start the same handlers on the same uploads: prefix and suffix per model', async () => {
      const [notifications] = resourcesOf(aws.template, 'Custom::S3BucketNotifications');
      if (!notifications) throw new Error('the stack configures no bucket notifications');
      const configs = (
        (notifications[1].Properties as Record<string, unknown>).NotificationConfiguration as {
          LambdaFunctionConfigurations: {
            Events: string[];
            Filter?: { Key: { FilterRules: { Name: string; Value: string }[] } };
            LambdaFunctionArn: unknown;
          }[];
        }
      ).LambdaFunctionConfigurations;
      const stackRules: NotificationRule[] = configs.map((c) => {
        expect(c.Events).toEqual(['s3:ObjectCreated:*']);
        const filter = Object.fromEntries((c.Filter?.Key.FilterRules ?? []).map((f) => [f.Name, f.Value]));
        return {
          prefix: filter.prefix ?? '',
          ...(filter.suffix !== undefined ? { suffix: filter.suffix } : {}),
          handler: handlerOf(c.LambdaFunctionArn),
        };
      });
      expect(stackRules).toHaveLength(3 * Object.keys(config.models).length);
      expect(sortedRules(local.notifications.rules)).toEqual(sortedRules(stackRules));

      // And the local notifications deliver exactly the uploads S3 would: created objects that
      // pass a rule's filters, to that rule's handler.
      const invoked: { handler: HandlerName; key: string }[] = [];
      const delivering = localNotifications(config, {
        async invoke(handler, event) {
          invoked.push({
            handler,
            key: (event as { Records: S3EventRecord[] }).Records[0]?.s3.object.key ?? '',
          });
          return null;
        },
      });
      const keyIn = (rule: NotificationRule) => `${rule.prefix}2026-12-01-upload.csv${rule.suffix ?? ''}`;
      for (const rule of stackRules) delivering.deliver(s3Event('ObjectCreated:Put', keyIn(rule)));
      delivering.deliver(s3Event('ObjectCreated:Put', 'monitoring/unknown-model/baseline/x.csv'));
      delivering.deliver(s3Event('ObjectCreated:Put', `datasets/${Object.keys(config.models)[0]}/x.csv`));
      delivering.deliver(s3Event('ObjectRemoved:Delete', keyIn(stackRules[0] as NotificationRule)));
      await delivering.idle();
      expect(invoked).toEqual(stackRules.map((r) => ({ handler: r.handler, key: keyIn(r) })));
    });

    it('give every function the same environment variables', () => {
      const localEnv = functionEnvironments(local.functionEnv);
      for (const name of Object.keys(HANDLERS) as HandlerName[]) {
        const id = aws.stack.getLogicalId(aws.stack.functions.get(name).node.defaultChild as CfnElement);
        const fn = resources()[id]?.Properties ?? {};
        const vars = (fn.Environment as { Variables: Record<string, unknown> }).Variables;
        expect(contractNames(name, Object.keys(localEnv[name])), name).toEqual(
          contractNames(name, Object.keys(vars)),
        );
      }
    });

    it('set in the local process exactly what the functions get together', () => {
      const world = local.functionEnv;
      const union = new Set(Object.values(functionEnvironments(world)).flatMap((env) => Object.keys(env)));
      const shared = sharedEnvironment(world);
      expect(Object.keys(shared).sort()).toEqual([...union].sort());
      for (const key of Object.values(ENV)) {
        expect(process.env[key], key).toBe(shared[key]);
      }
    });

    it('name the same resources: the state machine, the alert topic, the schedule rules of handlers', async () => {
      const [, machine] = resourcesOf(aws.template, 'AWS::StepFunctions::StateMachine')[0] ?? [];
      expect(local.endpoints.stateMachineArn.split(':').pop()).toBe(machine?.Properties?.StateMachineName);
      const [, topic] = resourcesOf(aws.template, 'AWS::SNS::Topic')[0] ?? [];
      expect(process.env[ENV.alertTopicArn]?.split(':').pop()).toBe(topic?.Properties?.TopicName);

      // The rules that invoke a handler on its contract's schedule, and what the local scheduler
      // invokes that handler with: the same expression, and an event from a rule of the same name.
      const stackRules = resourcesOf(aws.template, 'AWS::Events::Rule').flatMap(([, r]) => {
        const p = r.Properties as { Name: string; ScheduleExpression?: string; Targets: { Arn: unknown }[] };
        const handler = handlerOf(p.Targets[0]?.Arn);
        return p.ScheduleExpression && (HANDLERS[handler] as HandlerContract).schedule
          ? [{ handler, rule: p.Name, expression: p.ScheduleExpression }]
          : [];
      });
      expect(stackRules.length).toBeGreaterThan(0);
      const fired: { handler: HandlerName; rule: string | undefined; expression: string }[] = [];
      const jobs = contractScheduleJobs(
        config.project,
        async (handler, event) => {
          const rule = (event as { resources: string[] }).resources[0]?.split('/').pop();
          fired.push({ handler, rule, expression: (HANDLERS[handler] as HandlerContract).schedule ?? '' });
          return {};
        },
        () => undefined,
      );
      for (const job of jobs) await job.run();
      expect(fired).toEqual(stackRules);
      expect(jobs.map((j) => j.expression)).toEqual(stackRules.map((r) => r.expression));
    });

    it('substitute the same placeholders of the same definition, with the same handlers', () => {
      const [, machine] = resourcesOf(aws.template, 'AWS::StepFunctions::StateMachine')[0] ?? [];
      const text = machine?.Properties?.DefinitionString as string;
      const stackValues = machine?.Properties?.DefinitionSubstitutions as Record<string, unknown>;
      const localValues = localSubstitutions(config.project);
      expect(Object.keys(localValues).sort()).toEqual(Object.keys(stackValues).sort());
      expect(aslPlaceholders(text)).toEqual(Object.keys(stackValues).sort());
      // The running engine's definition is the stack's, with the local values in its placeholders
      // (aws-local-stepfunctions marks each state with the default QueryLanguage as it loads it)…
      const running = JSON.parse(
        JSON.stringify(local.engine.definition, (key, v) => (key === 'QueryLanguage' ? undefined : v)),
      );
      expect(text).not.toContain('QueryLanguage');
      expect(running).toEqual(JSON.parse(substitute(text, localValues)));
      // …each naming the same thing: a function of the same handler, the same queue and job
      // definitions.
      for (const [placeholder, value] of Object.entries(stackValues)) {
        const localValue = localValues[placeholder] as string;
        const getAtt = (value as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
        if (getAtt?.[1] === 'Arn') {
          expect(local.lambdas.nameOf(localValue), placeholder).toBe(handlerOf(value));
        } else if (getAtt?.[1] === 'JobQueueArn') {
          const queue = resources()[getAtt[0]]?.Properties.JobQueueName;
          expect(localValue.split('/').pop(), placeholder).toBe(queue);
        } else {
          expect(localValue, placeholder).toBe(value);
        }
      }
    });
  },
);

/**
 * The contract variables a set of environment names stands for: without the runtime's own
 * (logger service name and level), and the embedded default's stand-ins read as the variables
 * they replace.
 */
function contractNames(name: HandlerName, names: readonly string[]): string[] {
  const contract = HANDLERS[name] as { env: readonly EnvName[]; optionalEnv?: readonly EnvName[] };
  const listed = new Set<EnvName>([...contract.env, ...(contract.optionalEnv ?? [])]);
  const out = new Set<string>();
  for (const key of names as EnvName[]) {
    // The CDN's id: AWS only (checked in test/infra/client-distribution.test.ts).
    if (RUNTIME_ENV.includes(key) || AWS_ONLY_ENV.includes(key)) continue;
    const replaced = STAND_INS[key];
    if (replaced) for (const r of replaced.filter((r) => listed.has(r))) out.add(r);
    else out.add(key);
  }
  return [...out].sort();
}

function sortedRoutes(routes: readonly RouteContract[]): RouteContract[] {
  return [...routes]
    .map(({ method, path, handler, auth }) => ({ method, path, handler, auth }))
    .sort((a, b) => `${a.path} ${a.method}`.localeCompare(`${b.path} ${b.method}`));
}

function sortedRules(rules: readonly NotificationRule[]): NotificationRule[] {
  return [...rules]
    .map(({ prefix, suffix, handler }) => ({ prefix, ...(suffix !== undefined ? { suffix } : {}), handler }))
    .sort((a, b) => `${a.prefix} ${a.suffix}`.localeCompare(`${b.prefix} ${b.suffix}`));
}

function s3Event(eventName: string, key: string): S3EventRecord {
  return {
    eventName,
    s3: {
      bucket: { name: 'mlcycle-artifacts' },
      object: { key: encodeURIComponent(key).replace(/%2F/g, '/') },
    },
  } as S3EventRecord;
}

/**
 * `npm run bench:manifest [-- --requests 20000] [-- --clients 50]`: a bounded load test of the
 * client manifest endpoint of the embedded default (GET /models/<model>/<stage> on the local
 * gateway, the manifest-http handler reading the local bucket), on loopback.
 *
 * It starts the whole embedded default in a temporary folder (as `mlcycle up` does), publishes a
 * v2 manifest as Deploy would, then runs `--clients` concurrent keep-alive clients until
 * `--requests` requests have been answered: every other request of each client revalidates with
 * the ETag it got (If-None-Match, answered 304), the others fetch the manifest (200). It prints
 * requests/s, p50/p99/max latency, the share of 304s and the peak RSS of this one process (which
 * holds the load generator, the gateway, the handlers and s3rver; DynamoDB Local is a child
 * process and not counted). Only node built-ins generate the load.
 *
 * Any answer other than 200/304, or a 200 whose body is not the published manifest, aborts the
 * run with a non-zero exit: the figures are of correct answers only.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../lambdas/adapters/config-file.js';
import { publishManifest } from '../lambdas/adapters/registry/manifest.js';
import { S3Objects } from '../lambdas/adapters/s3-objects.js';
import type { ClientManifest } from '../lambdas/contracts/manifest.js';
import { startLocalStack } from '../local/runtime.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v < 1)
    throw new Error(`--${name} must be a positive integer, got ${process.argv[i + 1]}`);
  return v;
}
const REQUESTS = arg('requests', 20_000);
const CLIENTS = arg('clients', 50);

interface Answer {
  readonly status: number;
  readonly etag: string | undefined;
  readonly body: string;
}

function get(agent: Agent, url: URL, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, etag: res.headers.etag, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const quantile = (sorted: Float64Array, q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mlcycle-bench-manifest-'));
  const config = parseConfig(
    {
      models: { churn: { target: 'churned' } },
      environments: {
        staging: { approvers: ['lead@studio.test'] },
        production: { approvers: ['lead@studio.test'] },
      },
    },
    'bench config',
  );
  const stack = await startLocalStack({ config, dir, fresh: true, log: () => {} });
  try {
    const sha256 = createHash('sha256').update('bench model').digest('hex');
    const manifest: ClientManifest = {
      schema: 'mlcycle.manifest/v2',
      model: 'churn',
      stage: 'production',
      version: '1.4.0',
      download: { url: `${stack.endpoints.api}downloads/churn/${sha256}/model.tar.gz`, sha256, size: 48_213 },
      metrics: { auc: 0.83, accuracy: 0.78, f1: 0.61 },
      promotedAt: '2026-12-01T10:00:00.000Z',
      ledgerSeq: 7,
      previousVersion: '1.3.2',
      action: 'promote',
    };
    await publishManifest(new S3Objects(stack.s3.client), stack.endpoints.bucket, manifest);
    const url = new URL('models/churn/production', stack.endpoints.api);
    const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });

    // Warm-up (cold handler, first S3 reads), not counted.
    const first = await get(agent, url, {});
    if (first.status !== 200 || !first.etag) throw new Error(`warm-up answered ${first.status}`);
    const expected = JSON.stringify(JSON.parse(first.body));

    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 20);
    const latencies = new Float64Array(REQUESTS);
    let issued = 0;
    let notModified = 0;
    const started = process.hrtime.bigint();
    const client = async (c: number) => {
      let etag: string | undefined;
      for (let k = c; ; k++) {
        const i = issued++;
        if (i >= REQUESTS) return;
        const revalidate = k % 2 === 1 && etag !== undefined;
        const t0 = process.hrtime.bigint();
        const a = await get(agent, url, revalidate && etag ? { 'if-none-match': etag } : {});
        latencies[i] = Number(process.hrtime.bigint() - t0) / 1e6;
        if (a.status === 304) notModified++;
        else if (a.status !== 200 || JSON.stringify(JSON.parse(a.body)) !== expected) {
          throw new Error(`request ${i} answered ${a.status}: ${a.body.slice(0, 200)}`);
        }
        etag = a.etag ?? etag;
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    clearInterval(sampler);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    agent.destroy();

    const sorted = latencies.slice().sort();
    const out = {
      requests: REQUESTS,
      clients: CLIENTS,
      seconds: Number(seconds.toFixed(2)),
      requestsPerSecond: Math.round(REQUESTS / seconds),
      latencyMs: {
        p50: Number(quantile(sorted, 0.5).toFixed(2)),
        p99: Number(quantile(sorted, 0.99).toFixed(2)),
        max: Number((sorted[sorted.length - 1] ?? 0).toFixed(2)),
      },
      notModifiedShare: Number((notModified / REQUESTS).toFixed(3)),
      peakRssMb: Math.round(peakRss / 2 ** 20),
    };
    console.log(
      `manifest endpoint, ${out.clients} clients, ${out.requests} requests in ${out.seconds} s: ` +
        `${out.requestsPerSecond} req/s, p50 ${out.latencyMs.p50} ms, p99 ${out.latencyMs.p99} ms, ` +
        `max ${out.latencyMs.max} ms, 304s ${(out.notModifiedShare * 100).toFixed(1)} %, peak RSS ${out.peakRssMb} MB`,
    );
    console.log(JSON.stringify(out));
  } finally {
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  console.error(`bench:manifest failed: ${err.message}`);
  process.exit(1);
});

import { esc } from '../approval/html.js';
import {
  curveFields,
  curveGroups,
  type EpochLines,
  lineChart,
  PALETTE,
  type Series,
  xLabelOf,
  xOf,
} from './learning-curves.js';
import type { ComparisonRow } from './run-comparison.js';
import type { SweepOfRun } from './types.js';

type Value = string | number | boolean | null;

/** What a run page shows (the shape of `runs show --json`). */
export interface RunPageInput {
  readonly model: string;
  readonly runId: string;
  readonly status: string;
  readonly stage: string;
  readonly trigger: string;
  readonly requestedBy: string;
  readonly startedAt: string;
  readonly durationSeconds: number | null;
  readonly version: string | null;
  readonly datasetUri: string;
  readonly datasetSha256: string | null;
  readonly note: string;
  readonly failure: string | null;
  readonly cancelled: { readonly by: string; readonly at: string; readonly reason: string } | null;
  readonly logs: string | null;
  /** A sweep's trial: which, whether it was chosen, why it was stopped. */
  readonly sweep?: SweepOfRun | null;
  readonly parameters: Readonly<Record<string, Value>>;
  readonly overrides: Readonly<Record<string, Value>> | null;
  readonly metrics: Readonly<Record<string, number>>;
  readonly reportedMetrics: Readonly<Record<string, number>>;
  readonly epochs: EpochLines;
}

export interface PageOptions {
  /** The model's primary metric (its evaluation.primaryMetric, else its task's first). */
  readonly primaryMetric: string;
  readonly generatedAt: string;
}

const STYLE = `body{font:14px/1.5 system-ui,sans-serif;max-width:980px;margin:24px auto;padding:0 16px;color:#1d2330}
table{border-collapse:collapse;width:100%}td,th{padding:5px 8px;border-bottom:1px solid #eee;text-align:left;overflow-wrap:anywhere}
th{font-weight:600;color:#5b6476;font-size:13px}
section{border:1px solid #dde1e8;border-radius:8px;padding:12px 16px;margin:12px 0}.muted{color:#6b7385}
figure{margin:8px 0 16px}figcaption{font-weight:600;color:#3b4456;margin-bottom:4px}
.legend{font-size:12px;color:#3b4456}.key{margin-right:14px;white-space:nowrap}.key i{display:inline-block;width:14px;height:3px;margin:0 5px 3px 0;vertical-align:middle}
.st{padding:1px 8px;border-radius:9px;font-size:12px;background:#eef0f4}.st-succeeded,.st-registered{background:#e7f5ea}
.st-failed{background:#fde7e7}.st-cancelled,.st-skipped{background:#fff4d6}.st-training,.st-evaluating{background:#e6f0fb}
tr.differs td{background:#fff8e1}td.mark{color:#b3261e;font-weight:700;width:1em}td.best{font-weight:700;color:#137333}
code{background:#eef0f4;padding:1px 5px;border-radius:4px}`;

const fmt = (v: unknown) =>
  typeof v === 'number' ? Number(v.toPrecision(6)).toString() : v === null || v === undefined ? '—' : esc(v);
const status = (s: string) => `<span class="st st-${esc(s)}">${esc(s)}</span>`;
const duration = (s: number | null) =>
  s === null ? '—' : s < 90 ? `${s.toFixed(0)} s` : `${(s / 60).toFixed(1)} min`;

/** A self-contained page in the look of the run pages (inline style, no scripts, no assets). */
export function shell(title: string, body: string, generatedAt: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>${STYLE}</style></head><body>
${body}
<p class="muted">Generated ${esc(generatedAt)} by mlcycle.</p>
</body></html>
`;
}

function kvTable(head: [string, string], rows: readonly [string, string][], cls = ''): string {
  if (!rows.length) return '<p class="muted">None.</p>';
  return `<table class="${cls}"><tr><th>${head[0]}</th><th>${head[1]}</th></tr>${rows
    .map(([k, v]) => `<tr><td>${esc(k)}</td><td>${v}</td></tr>`)
    .join('')}</table>`;
}

/** The learning curves of one run: each group of fields on one chart, one path per field. */
function runCharts(epochs: EpochLines, primaryMetric: string): string {
  if (!epochs.length) return '<p class="muted">The trainer wrote no per-epoch metrics (metrics.jsonl).</p>';
  const xLabel = xLabelOf(epochs);
  return curveGroups(curveFields(epochs), primaryMetric)
    .map((g) =>
      lineChart(
        g.title,
        xLabel,
        g.fields.map((f) => ({
          label: f,
          points: epochs.flatMap((e, i) => (typeof e[f] === 'number' ? [[xOf(e, i), e[f]] as const] : [])),
        })),
      ),
    )
    .join('\n');
}

/** A self-contained page for one run: its facts, learning curves, parameters and metrics. */
export function renderRunPage(run: RunPageInput, options: PageOptions): string {
  const facts: [string, string][] = [
    ['status', status(run.status)],
    ['stage', esc(run.stage)],
    ['version', fmt(run.version)],
    ['started', `${esc(run.startedAt)} by ${esc(run.requestedBy)} (${esc(run.trigger)})`],
    ['duration', duration(run.durationSeconds)],
    [
      'dataset',
      `<code>${esc(run.datasetUri)}</code>${run.datasetSha256 ? ` sha256 ${esc(run.datasetSha256.slice(0, 16))}…` : ''}`,
    ],
    ...(run.note ? [['note', esc(run.note)] as [string, string]] : []),
    ...(run.cancelled
      ? [
          [
            'cancelled',
            `by ${esc(run.cancelled.by)} at ${esc(run.cancelled.at)}: ${esc(run.cancelled.reason)}`,
          ] as [string, string],
        ]
      : []),
    ...(run.failure ? [['failure', esc(run.failure)] as [string, string]] : []),
    ...(run.sweep
      ? [
          [
            'sweep',
            `trial ${run.sweep.trial} of <code>${esc(run.sweep.id)}</code>${run.sweep.best ? ', chosen' : ''}${run.sweep.stopped ? `: ${esc(run.sweep.stopped)}` : ''}`,
          ] as [string, string],
        ]
      : []),
    ...(run.logs ? [['logs', `<code>${esc(run.logs)}</code>`] as [string, string]] : []),
  ];
  const overridden = run.overrides ?? {};
  const params = Object.entries(run.parameters)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]): [string, string] => [
      k,
      `${fmt(v)}${k in overridden ? ' <small class="muted">(set for this run)</small>' : ''}`,
    ]);
  const metrics = Object.entries(run.metrics).map(([k, v]): [string, string] => [k, fmt(v)]);
  const reported = Object.entries(run.reportedMetrics).map(([k, v]): [string, string] => [k, fmt(v)]);
  const body = `<h1>Run ${esc(run.runId)} of ${esc(run.model)}</h1>
<section><h2>Run</h2>${kvTable(['', ''], facts, 'facts')}</section>
<section><h2>Learning curves</h2>${runCharts(run.epochs, options.primaryMetric)}</section>
<section><h2>Parameters</h2>${kvTable(['parameter', 'value'], params, 'parameters')}</section>
<section><h2>Metrics</h2><p class="muted">Measured by mlcycle on the holdout it kept (gates use these).</p>${kvTable(['metric', 'value'], metrics, 'metrics')}
${reported.length ? `<h3>Reported by the trainer</h3>${kvTable(['metric', 'value'], reported, 'reported')}` : ''}</section>`;
  return shell(`Run ${run.runId} of ${run.model}`, body, options.generatedAt);
}

/** One run of a comparison: how the user named it, and its per-epoch lines. */
export interface ComparedCurves {
  readonly label: string;
  readonly epochs: EpochLines;
}

/**
 * A self-contained page comparing runs: every learning-curve field on one chart with a path per
 * run (a legend naming them), then the runs' facts, parameters and metrics side by side, rows
 * where they differ marked ≠ and each metric's best value in bold.
 */
export function renderComparisonPage(
  model: string,
  runs: readonly ComparedCurves[],
  rows: readonly ComparisonRow[],
  options: PageOptions,
): string {
  const fields = [...new Set(runs.flatMap((r) => curveFields(r.epochs)))];
  const groups = curveGroups(fields, options.primaryMetric);
  const xLabel = xLabelOf(runs.flatMap((r) => r.epochs));
  const charts = groups
    .flatMap((g) => g.fields)
    .map((field) => {
      const series: Series[] = runs.map((r) => ({
        label: r.label,
        points: r.epochs.flatMap((e, i) =>
          typeof e[field] === 'number' ? [[xOf(e, i), e[field]] as const] : [],
        ),
      }));
      return lineChart(
        field,
        xLabel,
        series.filter((s) => s.points.length),
      );
    })
    .join('\n');
  const keys = runs
    .map(
      (r, i) =>
        `<th><span class="key"><i style="background:${PALETTE[i % PALETTE.length]}"></i>${esc(r.label)}</span></th>`,
    )
    .join('');
  const table = (section: ComparisonRow['section'], title: string) => {
    const these = rows.filter((r) => r.section === section);
    if (!these.length) return '';
    return `<section><h2>${title}</h2><table class="compare compare-${section}"><tr><th></th><th>${section}</th>${keys}</tr>${these
      .map(
        (r) =>
          `<tr class="${r.differs ? 'differs' : 'same'}"><td class="mark">${r.differs ? '≠' : ''}</td><td>${esc(r.name)}</td>${r.values
            .map((v, i) => `<td${r.best === i ? ' class="best"' : ''}>${fmt(v)}</td>`)
            .join('')}</tr>`,
      )
      .join('')}</table></section>`;
  };
  const body = `<h1>Comparison of ${runs.length} runs of ${esc(model)}</h1>
<p>${runs.map((r) => `<code>${esc(r.label)}</code>`).join(' · ')} <span class="muted">— ≠ marks rows where they differ; the best value of a metric is in bold.</span></p>
<section><h2>Learning curves</h2>${charts || '<p class="muted">None of these runs wrote per-epoch metrics.</p>'}</section>
${table('run', 'Runs')}${table('parameter', 'Parameters')}${table('metric', 'Metrics')}`;
  return shell(`Comparison of ${runs.length} runs of ${model}`, body, options.generatedAt);
}

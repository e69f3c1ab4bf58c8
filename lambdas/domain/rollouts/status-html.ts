import type { RolloutEvidence } from '../../contracts/rollout-evidence.js';
import { type RolloutRecord, variantsInForce } from '../../contracts/rollout-record.js';
import { esc } from '../approval/html.js';
import type { RolloutDecision, TestResult } from './decide.js';
import { meanOf, rateOf, varianceOf, variantTotal } from './evidence.js';

/**
 * The rollout status page (self-contained HTML: inline CSS and SVG, no external assets) and the
 * evidence section the approval page of a rollout's promotion shows: a decision banner, each
 * variant's metrics with 95 % intervals, the sequential tests (treatment − control with their
 * always-valid confidence sequences against each threshold) and the sample-ratio check
 * (assigned players against what the weights expect).
 */

export interface RolloutStatusView {
  model: string;
  stage: string;
  rolloutId: string;
  /** The record's state (active, aborted, promoting, …). */
  state: string;
  /** The variants of the step in force, control last. */
  variants: readonly { name: string; version: string; weight: number }[];
  evidence: RolloutEvidence;
  decision: RolloutDecision;
  batches: number;
  checkedAt: string;
  lastBatchKey?: string;
  /** Lines worth a look (rows of unknown variants, bad values), already worded. */
  notes?: readonly string[];
  /** Set once the winner's promotion was asked for. */
  promotion?: { version: string; executionArn?: string; requestedAt: string };
}

export interface VariantMetric {
  metric: string;
  type: 'mean' | 'rate';
  variant: string;
  n: number;
  value: number;
  lower: number;
  upper: number;
}

const Z95 = 1.959964;

/** A stored decision (the record's `lastDecision`, kept without its memory), if it is one. */
export function storedDecision(value: unknown): RolloutDecision | undefined {
  const d = value as Partial<RolloutDecision> | null | undefined;
  const ok =
    !!d &&
    typeof d.action === 'string' &&
    Array.isArray(d.reasons) &&
    Array.isArray(d.tests) &&
    Array.isArray(d.variants) &&
    typeof d.srm === 'object' &&
    d.srm !== null &&
    Array.isArray(d.srm.cells);
  return ok ? ({ ...d, memory: {} } as RolloutDecision) : undefined;
}

/** The page's view of a rollout record that has been decided on (undefined before its first batch). */
export function statusViewOf(
  record: RolloutRecord,
  extra: { checkedAt: string; lastBatchKey?: string; notes?: readonly string[] },
): RolloutStatusView | undefined {
  const decision = storedDecision(record.lastDecision);
  if (!decision) return undefined;
  return {
    model: record.model,
    stage: record.stage,
    rolloutId: record.rolloutId,
    state: record.status,
    variants: variantsInForce(record),
    evidence: record.evidence,
    decision,
    batches: record.batches.length,
    ...extra,
    ...(record.promotionRequest
      ? {
          promotion: {
            version: record.canaryVersion,
            executionArn: record.promotionRequest.executionName,
            requestedAt: record.promotionRequest.at,
          },
        }
      : {}),
  };
}

/** Each variant's value of every metric in the evidence, with a 95 % normal interval (descriptive, fixed-horizon). */
export function variantMetrics(evidence: RolloutEvidence, variants: readonly string[]): VariantMetric[] {
  const totals = variants.map((v) => [v, variantTotal(evidence, v)] as const);
  const names = (kind: 'means' | 'rates') =>
    [...new Set(totals.flatMap(([, t]) => Object.keys(t[kind])))].sort((a, b) => a.localeCompare(b));
  const out: VariantMetric[] = [];
  for (const metric of names('rates')) {
    for (const [variant, t] of totals) {
      const s = Object.hasOwn(t.rates, metric) ? t.rates[metric] : undefined;
      if (!s?.trials) continue;
      const p = rateOf(s);
      const q = (s.successes + 0.5) / (s.trials + 1);
      const half = Z95 * Math.sqrt((q * (1 - q)) / s.trials);
      out.push({ metric, type: 'rate', variant, n: s.trials, value: p, lower: p - half, upper: p + half });
    }
  }
  for (const metric of names('means')) {
    for (const [variant, t] of totals) {
      const s = Object.hasOwn(t.means, metric) ? t.means[metric] : undefined;
      if (!s?.n) continue;
      const m = meanOf(s);
      const half = Z95 * Math.sqrt(varianceOf(s) / s.n);
      out.push({ metric, type: 'mean', variant, n: s.n, value: m, lower: m - half, upper: m + half });
    }
  }
  return out;
}

const fmt = (x: number) =>
  !Number.isFinite(x)
    ? String(x)
    : Math.abs(x) >= 100
      ? x.toFixed(0)
      : Math.abs(x) >= 1
        ? x.toFixed(2)
        : Number(x.toPrecision(3)).toString();

const COLORS = ['#d9822b', '#5b7bab', '#3c9d5d', '#a05bab', '#ab5b5b', '#5baba5', '#8a8a3c', '#555'];

/** Horizontal interval chart: one row per item, a bar from lower to upper, a dot at the value, optional reference lines. */
function intervalChart(
  label: string,
  rows: readonly { name: string; value: number; lower: number; upper: number; color: string }[],
  lines: readonly { at: number; label: string; dashed?: boolean }[] = [],
): string {
  const w = 640;
  const rowH = 26;
  const left = 120;
  const right = 30;
  const top = 24;
  const h = top + rows.length * rowH + 22;
  const finite = [...rows.flatMap((r) => [r.lower, r.upper, r.value]), ...lines.map((l) => l.at)].filter(
    Number.isFinite,
  );
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (!(hi > lo)) [lo, hi] = [lo - 1, hi + 1];
  const padSpan = (hi - lo) * 0.08;
  [lo, hi] = [lo - padSpan, hi + padSpan];
  const x = (v: number) => left + ((Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo)) * (w - left - right);
  const ticks = [lo, (lo + hi) / 2, hi]
    .map(
      (v) =>
        `<line x1="${x(v).toFixed(1)}" y1="${top - 4}" x2="${x(v).toFixed(1)}" y2="${h - 20}" stroke="#eee"/><text x="${x(v).toFixed(1)}" y="${h - 6}" font-size="9" text-anchor="middle" fill="#555">${esc(fmt(v))}</text>`,
    )
    .join('\n');
  const refs = lines
    .map(
      (l) =>
        `<line x1="${x(l.at).toFixed(1)}" y1="${top - 6}" x2="${x(l.at).toFixed(1)}" y2="${h - 20}" stroke="#b33" ${l.dashed ? 'stroke-dasharray="4 3"' : ''}/><text x="${(x(l.at) + 3).toFixed(1)}" y="${top - 8}" font-size="9" fill="#b33">${esc(l.label)}</text>`,
    )
    .join('\n');
  const bars = rows
    .map((r, i) => {
      const y = top + i * rowH + rowH / 2;
      return `<text x="${left - 8}" y="${y + 3}" font-size="11" text-anchor="end" fill="#333">${esc(r.name)}</text>
<line x1="${x(r.lower).toFixed(1)}" y1="${y}" x2="${x(r.upper).toFixed(1)}" y2="${y}" stroke="${r.color}" stroke-width="6" stroke-linecap="round" opacity="0.45"><title>${esc(r.name)}: [${esc(fmt(r.lower))}, ${esc(fmt(r.upper))}]</title></line>
<circle cx="${x(r.value).toFixed(1)}" cy="${y}" r="4.5" fill="${r.color}"><title>${esc(r.name)}: ${esc(fmt(r.value))}</title></circle>`;
    })
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(label)}">
${ticks}
${refs}
${bars}</svg>`;
}

/** Observed against expected players per variant (summed over ramp steps). */
function srmChart(decision: RolloutDecision, names: readonly string[]): string {
  const byVariant = new Map<string, { observed: number; expected: number }>();
  for (const c of decision.srm.cells) {
    const prior = byVariant.get(c.variant) ?? { observed: 0, expected: 0 };
    byVariant.set(c.variant, {
      observed: prior.observed + c.observed,
      expected: prior.expected + c.expected,
    });
  }
  const order = [...names, ...[...byVariant.keys()].filter((n) => !names.includes(n))];
  const w = 640;
  const h = 40 + order.length * 34;
  const left = 120;
  const max = Math.max(1, ...[...byVariant.values()].flatMap((v) => [v.observed, v.expected]));
  const len = (v: number) => (v / max) * (w - left - 80);
  const rows = order
    .map((name, i) => {
      const v = byVariant.get(name) ?? { observed: 0, expected: 0 };
      const y = 24 + i * 34;
      return `<text x="${left - 8}" y="${y + 12}" font-size="11" text-anchor="end" fill="#333">${esc(name)}</text>
<rect x="${left}" y="${y}" width="${len(v.observed).toFixed(1)}" height="12" fill="#d9822b"><title>${esc(name)} assigned: ${v.observed}</title></rect>
<rect x="${left}" y="${y + 14}" width="${len(v.expected).toFixed(1)}" height="8" fill="#8aa4c8"><title>${esc(name)} expected: ${v.expected.toFixed(1)}</title></rect>
<text x="${(left + Math.max(len(v.observed), len(v.expected)) + 6).toFixed(1)}" y="${y + 14}" font-size="10" fill="#555">${v.observed} / ${v.expected.toFixed(0)}</text>`;
    })
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="assigned players against expected">
<text x="${left}" y="14" font-size="11" fill="#555"><tspan fill="#d9822b">■ assigned</tspan> <tspan fill="#5b7bab">■ expected from the weights</tspan></text>
${rows}</svg>`;
}

const ACTION_TEXT: Record<RolloutDecision['action'], string> = {
  continue: 'keep going',
  promote: 'promote',
  rollback: 'roll back',
};
const ACTION_COLOR: Record<RolloutDecision['action'], string> = {
  continue: '#eef3fb',
  promote: '#e6f4ea',
  rollback: '#fbe9e7',
};

const pValueText = (p: number) => (p >= 0.001 ? fmt(p) : p.toExponential(1));

function testsTable(tests: readonly TestResult[]): string {
  if (!tests.length) return '<p>No test has run yet (too few players a side).</p>';
  const rows = tests
    .map(
      (t) =>
        `<tr${t.breached ? ' class="bad fail"' : ''}><td>${esc(t.variant)}</td><td>${esc(t.metric)}</td><td>${esc(fmt(t.estimate))}</td><td>[${esc(fmt(t.lower))}, ${esc(fmt(t.upper))}]</td><td>${esc(fmt(t.threshold))}</td><td>${esc(pValueText(t.pValue))}</td><td>${t.breached ? 'yes' : 'no'}</td></tr>`,
    )
    .join('\n');
  const charts = tests
    .map((t, i) =>
      intervalChart(
        `${t.variant} ${t.metric}: estimate and confidence sequence`,
        [
          {
            name: `${t.variant} ${t.metric}`,
            value: t.estimate,
            lower: t.lower,
            upper: t.upper,
            color: COLORS[i % COLORS.length] ?? '#555',
          },
        ],
        [
          { at: 0, label: '0' },
          ...(t.threshold !== 0
            ? [{ at: t.threshold, label: `limit ${fmt(t.threshold)}`, dashed: true }]
            : []),
        ],
      ),
    )
    .join('\n');
  return `<table><tr><th>variant</th><th>metric</th><th>estimate (treatment − control)</th><th>always-valid interval</th><th>threshold</th><th>p-value</th><th>breached</th></tr>
${rows}</table>
<div class="charts">${charts}</div>`;
}

/** The evidence as sections: decision, per-variant metrics, tests, SRM. The approval page embeds it. */
export function rolloutEvidenceSection(view: RolloutStatusView): string {
  const { decision } = view;
  const names = view.variants.map((v) => v.name);
  const color = (name: string) => COLORS[Math.max(0, names.indexOf(name)) % COLORS.length] ?? '#555';
  const metrics = variantMetrics(view.evidence, names);
  const byMetric = new Map<string, VariantMetric[]>();
  for (const m of metrics) byMetric.set(m.metric, [...(byMetric.get(m.metric) ?? []), m]);
  const metricCharts = [...byMetric]
    .map(
      ([metric, ms]) =>
        `<figure><figcaption>${esc(metric)} (${ms[0]?.type === 'rate' ? 'rate' : 'mean'}, 95 % interval)</figcaption>${intervalChart(
          `${metric} per variant`,
          ms.map((m) => ({ name: `${m.variant} (n ${m.n})`, ...m, color: color(m.variant) })),
        )}</figure>`,
    )
    .join('\n');
  const variantRows = decision.variants
    .map((v) => {
      const spec = view.variants.find((x) => x.name === v.name);
      return `<tr><td>${esc(v.name)}</td><td>${esc(spec?.version ?? '—')}</td><td>${spec ? (spec.weight / 100).toFixed(2) : '—'} %</td><td>${v.assigned}</td><td>${v.latencyP95 === undefined ? '—' : `${esc(fmt(v.latencyP95))} ms`}</td></tr>`;
    })
    .join('\n');
  const reasons = decision.reasons.map((r) => `<li>${esc(r.message)}</li>`).join('\n');
  const srm = decision.srm;
  return `<section class="decision" style="background:${ACTION_COLOR[decision.action]}">
<h2>Decision: ${esc(ACTION_TEXT[decision.action])}${decision.winner ? ` (${esc(decision.winner)})` : ''}</h2>
<ul class="reasons">${reasons}</ul>
</section>
<section><h2>Variants</h2>
<table><tr><th>variant</th><th>version</th><th>weight</th><th>players</th><th>latency p95</th></tr>
${variantRows}</table>
${metricCharts || '<p>No metric in the evidence yet.</p>'}
</section>
<section><h2>Sequential tests</h2>
${testsTable(decision.tests)}
</section>
<section><h2>Sample-ratio check</h2>
<p class="srm${decision.srmFlagged ? ' bad' : ''}">χ² = ${esc(fmt(srm.statistic))}, df ${srm.df}, p = ${esc(pValueText(srm.pValue))}${srm.impossible ? `; ${srm.impossible} players in variants with no weight` : ''} — ${decision.srmFlagged ? 'mismatch: the arms cannot be compared' : 'consistent with the weights'}</p>
${srmChart(decision, names)}
</section>`;
}

export const ROLLOUT_STYLE = `body{font-family:system-ui,sans-serif;margin:2em;max-width:980px;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:4px 8px;font-size:13px;text-align:left}
tr.bad td,.bad{color:#b3261e;font-weight:600}section{margin:1.2em 0}.decision{padding:.6em 1em;border-radius:6px}
figure{margin:.6em 0}figcaption{font-size:12px;color:#555}.meta{color:#555;font-size:13px}`;

/** The whole status page of a rollout. */
export function renderRolloutStatus(view: RolloutStatusView): string {
  const notes = (view.notes ?? []).map((n) => `<li>${esc(n)}</li>`).join('\n');
  const promotion = view.promotion
    ? `<p>Promotion of ${esc(view.promotion.version)} requested at ${esc(view.promotion.requestedAt)}${view.promotion.executionArn ? ` (execution ${esc(view.promotion.executionArn)})` : ''}; it goes through the stage's approvals.</p>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Rollout ${esc(view.rolloutId)} of ${esc(view.model)}</title>
<style>${ROLLOUT_STYLE}</style></head>
<body>
<h1>Rollout ${esc(view.rolloutId)}: ${esc(view.model)} / ${esc(view.stage)}</h1>
<p class="meta">state ${esc(view.state)} · ${view.batches} batch(es) aggregated · checked ${esc(view.checkedAt)}${view.lastBatchKey ? ` · last batch ${esc(view.lastBatchKey)}` : ''}</p>
${promotion}
${notes ? `<section><h2>Notes</h2><ul>${notes}</ul></section>` : ''}
${rolloutEvidenceSection(view)}
</body></html>
`;
}

import { esc } from '../approval/html.js';
import type { DriftResult, FeatureDrift } from './drift-result.js';
import { measuredLine, measuredOf } from './measured.js';

function bars(f: FeatureDrift): string {
  const { labels, baseline, batch } = f.chart;
  if (!labels.length) return '';
  const w = 640;
  const h = 180;
  const pad = 36;
  const max = Math.max(0.01, ...baseline, ...batch);
  const slot = (w - pad * 2) / labels.length;
  const barW = Math.max(2, slot * 0.38);
  const y = (v: number) => h - pad - (v / max) * (h - pad * 2);
  const ticks = [0, max / 2, max]
    .map(
      (v) =>
        `<line x1="${pad - 3}" y1="${y(v).toFixed(1)}" x2="${w - pad}" y2="${y(v).toFixed(1)}" stroke="#eee"/><text x="${pad - 5}" y="${(y(v) + 3).toFixed(1)}" font-size="9" text-anchor="end" fill="#555">${(v * 100).toFixed(v * 100 >= 10 ? 0 : 1)}%</text>`,
    )
    .join('\n');
  const rects = labels
    .map((label, i) => {
      const x = pad + i * slot;
      const a = baseline[i] ?? 0;
      const b = batch[i] ?? 0;
      return `<rect x="${x.toFixed(1)}" y="${y(a).toFixed(1)}" width="${barW.toFixed(1)}" height="${(h - pad - y(a)).toFixed(1)}" fill="#8aa4c8"><title>baseline ${esc(label)}: ${(a * 100).toFixed(1)}%</title></rect>
<rect x="${(x + barW).toFixed(1)}" y="${y(b).toFixed(1)}" width="${barW.toFixed(1)}" height="${(h - pad - y(b)).toFixed(1)}" fill="#d9822b"><title>batch ${esc(label)}: ${(b * 100).toFixed(1)}%</title></rect>
<text x="${(x + barW).toFixed(1)}" y="${h - pad + 14}" font-size="9" text-anchor="middle" fill="#555">${esc(label.length > 9 ? `${label.slice(0, 8)}…` : label)}</text>`;
    })
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(f.name)}: baseline vs batch">
${ticks}
<line x1="${pad}" y1="${h - pad}" x2="${w - pad}" y2="${h - pad}" stroke="#999"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${h - pad}" stroke="#999"/>
<text x="${pad}" y="14" font-size="11" fill="#555">share of rows — <tspan fill="#5b7bab">■ baseline</tspan> <tspan fill="#d9822b">■ batch</tspan></text>
${rects}</svg>`;
}

const fmt = (v: unknown) =>
  typeof v === 'number' ? Number(v.toFixed(4)).toString() : v === undefined ? '—' : esc(v);

/** A self-contained HTML drift report (inline CSS and SVG charts, no external assets). */
export function renderDriftReport(
  model: string,
  batchKey: string,
  result: DriftResult,
  checkedAt: string,
  baselineKey?: string,
): string {
  // Drifted columns first, then the rest: every column gets its chart and its measurements.
  const ordered = [
    ...result.features.filter((f) => f.severity !== 'none'),
    ...result.features.filter((f) => f.severity === 'none'),
  ];
  const pv = (f: FeatureDrift) =>
    f.details.pValue === undefined
      ? '—'
      : `${f.details.pValue >= 0.001 ? fmt(f.details.pValue) : f.details.pValue.toExponential(1)}${f.details.pValueTest === 'chi-square' ? ' (χ²)' : ''}`;
  const pct = (share: number) => `${Number((share * 100).toFixed(2))} %`;
  const rows = result.features
    .map((f) => {
      const d = f.details;
      const raw = f.kind === 'numeric' ? `KS ${fmt(d.ks)}` : `JS ${fmt(d.jensenShannon)}`;
      const margin = f.kind === 'numeric' ? d.ksNoiseMargin : d.jensenShannonNoiseMargin;
      const w =
        d.wassersteinNormalized === undefined
          ? '—'
          : `${fmt(d.wassersteinNormalized)} <small>(noise ${fmt(d.wassersteinNoiseMargin)})</small>`;
      return `<tr><td>${esc(f.name)}${f.role !== 'feature' ? ` <small>(${esc(f.role)})</small>` : ''}</td><td>${esc(f.kind)}</td><td>${esc(f.method)}</td><td>${fmt(f.score)}</td><td>${d.ks === undefined && d.jensenShannon === undefined ? '—' : raw}</td><td>${fmt(margin)}</td><td>${pv(f)}</td><td>${w}</td><td>${fmt(d.psi)}</td><td>${pct(d.missingRate.baseline)} → ${pct(d.missingRate.batch)}${!d.missingRate.noiseMargin ? '' : ` <small>(noise ${Number((d.missingRate.noiseMargin * 100).toFixed(2))} pts)</small>`}</td><td class="sev sev-${esc(f.severity)}">${esc(f.status === 'ok' ? f.severity : f.status)}</td></tr>`;
    })
    .join('\n');
  const sections = ordered
    .map(
      (
        f,
      ) => `<section><h3>${esc(f.name)} — <span class="sev sev-${esc(f.severity)}">${esc(f.status === 'ok' ? f.severity : f.status)}</span></h3>
${bars(f)}<p><b>${f.severity === 'none' ? 'Assessment' : 'Recommended'}:</b> ${esc(f.recommendation)}</p>
${f.details.unseen?.length ? `<p>New categories: ${esc(f.details.unseen.join(', '))}</p>` : ''}
<p class="muted">${esc(measuredLine(measuredOf(f)))}</p></section>`,
    )
    .join('\n');
  const perf = result.performance;
  const perfBlock = perf.metrics
    ? `<table><tr><th>metric</th><th>this batch</th><th>at evaluation</th><th>change</th></tr>${Object.entries(
        perf.metrics,
      )
        .map(
          ([k, v]) =>
            `<tr><td>${esc(k)}</td><td>${fmt(v)}</td><td>${fmt(perf.reference?.[k as keyof typeof perf.reference])}</td><td>${fmt(perf.change?.[k as keyof typeof perf.change])}</td></tr>`,
        )
        .join('')}</table>`
    : '<p class="muted">No labels and predictions in this batch: performance not measured.</p>';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Drift: ${esc(model)} — ${esc(batchKey)}</title>
<style>body{font:14px/1.5 system-ui,sans-serif;max-width:980px;margin:24px auto;padding:0 16px;color:#1d2330}
table{border-collapse:collapse;width:100%}td,th{padding:5px 8px;border-bottom:1px solid #eee;text-align:left}
section{border:1px solid #dde1e8;border-radius:8px;padding:12px 16px;margin:12px 0}.muted{color:#6b7385}
.sev{padding:1px 8px;border-radius:9px;font-size:12px}.sev-none{background:#e7f5ea}.sev-low{background:#eef6d8}
.sev-medium{background:#fff4d6}.sev-high{background:#fde7e7}.sev-critical{background:#b3261e;color:#fff}</style></head><body>
<h1>Drift report: ${esc(model)}</h1>
<p>Batch <code>${esc(batchKey)}</code> checked ${esc(checkedAt)} · ${result.rows.batch} rows vs ${result.rows.baseline} rows of the baseline${baselineKey ? ` <code>${esc(baselineKey)}</code>` : ''} ·
overall <span class="sev sev-${esc(result.overallSeverity)}">${esc(result.overallSeverity)}</span> ·
${(result.driftedShare * 100).toFixed(0)}% of features drifted${result.datasetDrift ? ' (dataset drift)' : ''}</p>
${result.warnings.length ? `<ul>${result.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>` : ''}
<h2>All columns</h2>
<p class="muted">Decided by: KS distance or Wasserstein/σ (numeric), Jensen–Shannon distance (categorical), each less the noise margin two samples of these sizes reach by chance; and the change in missing rate, less its own margin (3 standard errors of a difference of two proportions). p-values and PSI are reported, not deciding.</p>
<table><tr><th>column</th><th>kind</th><th>decided by</th><th>score</th><th>raw distance</th><th>noise margin</th><th>p-value</th><th>W/σ</th><th>PSI</th><th>missing</th><th>severity</th></tr>${rows}</table>
<h2>Performance</h2>${perfBlock}
${perf.latency ? `<p>Latency p50 ${fmt(perf.latency.p50)} · p95 ${fmt(perf.latency.p95)} · p99 ${fmt(perf.latency.p99)} ms</p>` : ''}
<h2>Every column, drifted first</h2>${sections || '<p>None.</p>'}
</body></html>
`;
}

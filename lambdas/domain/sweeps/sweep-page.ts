import { esc } from '../approval/html.js';
import { lineChart, PALETTE } from '../registry/learning-curves.js';
import { shell } from '../registry/run-page.js';

/** One trial of a sweep as its run recorded it (services/sweeps/sweep-status.ts). */
export interface SweepPageTrial {
  readonly trial: number;
  readonly runId: string;
  /** The run's status: training, evaluating, stopped, evaluated, failed, registered, succeeded. */
  readonly status: string;
  readonly parameters: Readonly<Record<string, string | number | boolean>>;
  /** The sweep's metric as the platform measured it, once evaluated. */
  readonly value: number | null;
  /** Why it stopped (the rule's reason) or failed. */
  readonly reason: string;
  readonly best: boolean;
  readonly version: string | null;
  readonly startedAt: string;
  /** Seconds from the run's start to the end of its training job. */
  readonly trainingSeconds: number | null;
}

/** A sweep's spec (its start record) and its trials in trial order. */
export interface SweepPageInput {
  readonly id: string;
  readonly model: string;
  readonly stage: string;
  readonly requestedBy: string;
  readonly metric: string;
  readonly direction: 'max' | 'min';
  readonly rule: string;
  readonly planned: number;
  readonly concurrency: number;
  readonly trials: readonly SweepPageTrial[];
}

const num = (v: number) => Number(v.toPrecision(4)).toString();

/**
 * A scatter of (x, y) points, one circle per trial (hollow when it was stopped or failed and so
 * has no measured value: drawn on the x axis), an optional log x, the axes labelled.
 */
export function scatterChart(
  title: string,
  xLabel: string,
  yLabel: string,
  points: readonly { x: number; y: number | null; label: string; best: boolean }[],
  logX = false,
): string {
  const w = 640;
  const h = 240;
  const pad = { l: 56, r: 16, t: 24, b: 36 };
  const tx = (v: number) => (logX ? Math.log10(v) : v);
  const valued = points.filter((p) => p.y !== null);
  if (!points.length) return `<p class="muted">${esc(title)}: no trials.</p>`;
  const xs = points.map((p) => tx(p.x));
  const ys = valued.map((p) => p.y as number);
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  if (y0 === y1) [y0, y1] = [y0 - Math.abs(y0 || 1) * 0.05, y1 + Math.abs(y1 || 1) * 0.05];
  const X = (v: number) => pad.l + ((tx(v) - x0) / (x1 - x0)) * (w - pad.l - pad.r);
  const Y = (v: number) => h - pad.b - ((v - y0) / (y1 - y0)) * (h - pad.t - pad.b);
  const dots = points
    .map((p) => {
      const cy = p.y === null ? h - pad.b : Y(p.y);
      const fill = p.y === null ? 'none' : p.best ? PALETTE[2] : PALETTE[0];
      return `<circle class="trial" data-label="${esc(p.label)}" cx="${X(p.x).toFixed(1)}" cy="${cy.toFixed(1)}" r="${p.best ? 6 : 4}" fill="${fill}" stroke="${p.y === null ? PALETTE[1] : fill}" stroke-width="1.5"><title>${esc(p.label)}</title></circle>`;
    })
    .join('');
  const ticks = [0, 0.5, 1]
    .map((f) => y0 + f * (y1 - y0))
    .map(
      (v) =>
        `<line x1="${pad.l}" y1="${Y(v).toFixed(1)}" x2="${w - pad.r}" y2="${Y(v).toFixed(1)}" stroke="#eee"/><text x="${pad.l - 5}" y="${(Y(v) + 3).toFixed(1)}" font-size="9" text-anchor="end" fill="#555">${num(v)}</text>`,
    )
    .join('');
  const xticks = [x0, (x0 + x1) / 2, x1]
    .map(
      (v) =>
        `<text x="${(pad.l + ((v - x0) / (x1 - x0)) * (w - pad.l - pad.r)).toFixed(1)}" y="${h - pad.b + 13}" font-size="9" text-anchor="middle" fill="#555">${num(logX ? 10 ** v : v)}</text>`,
    )
    .join('');
  return `<figure><figcaption>${esc(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(title)}">
${ticks}${xticks}
<line x1="${pad.l}" y1="${h - pad.b}" x2="${w - pad.r}" y2="${h - pad.b}" stroke="#999"/><line x1="${pad.l}" y1="${pad.t}" x2="${pad.l}" y2="${h - pad.b}" stroke="#999"/>
<text x="${(w + pad.l) / 2}" y="${h - 6}" font-size="10" text-anchor="middle" fill="#555">${esc(xLabel)}${logX ? ' (log scale)' : ''}</text>
<text x="12" y="${(h - pad.b + pad.t) / 2}" font-size="10" text-anchor="middle" fill="#555" transform="rotate(-90 12 ${(h - pad.b + pad.t) / 2})">${esc(yLabel)}</text>
${dots}</svg><div class="legend"><span class="key"><i style="background:${PALETTE[0]}"></i>evaluated</span> <span class="key"><i style="background:${PALETTE[2]}"></i>chosen</span> <span class="key"><i style="background:${PALETTE[1]}"></i>stopped or failed (no value, on the axis)</span></div></figure>`;
}

const label = (t: SweepPageTrial, metric: string) =>
  `trial #${t.trial} ${t.status}${t.value === null ? '' : ` ${metric} ${num(t.value)}`}${t.reason ? ` — ${t.reason}` : ''}`;

/**
 * The page of a sweep: its rules, the trials over time (the measured metric of each trial by when
 * its training ended, and the best so far), the metric against each numeric parameter (log scale
 * when its values span more than two decades), and the table of trials.
 */
export function renderSweepPage(s: SweepPageInput, generatedAt: string): string {
  const t0 = Math.min(...s.trials.map((t) => Date.parse(t.startedAt)));
  const endsAt = (t: SweepPageTrial) => (Date.parse(t.startedAt) - t0) / 1000 + (t.trainingSeconds ?? 0);
  const byEnd = [...s.trials].sort((a, b) => endsAt(a) - endsAt(b));
  let best: number | null = null;
  const bestSoFar = byEnd.flatMap((t): [number, number][] => {
    if (t.value === null) return best === null ? [] : [[endsAt(t), best]];
    best =
      best === null ? t.value : s.direction === 'max' ? Math.max(best, t.value) : Math.min(best, t.value);
    return [[endsAt(t), best]];
  });
  const overTime = [
    scatterChart(
      `${s.metric} of each trial, by when its training ended`,
      'seconds since the first trial started',
      s.metric,
      s.trials.map((t) => ({ x: endsAt(t), y: t.value, label: label(t, s.metric), best: t.best })),
    ),
    lineChart(`best ${s.metric} so far (${s.direction})`, 'seconds since the first trial started', [
      { label: `best ${s.metric}`, points: bestSoFar },
    ]),
  ];
  const numeric = [...new Set(s.trials.flatMap((t) => Object.keys(t.parameters)))].filter((p) =>
    s.trials.every((t) => typeof t.parameters[p] === 'number'),
  );
  const perParameter = numeric.map((p) => {
    const xs = s.trials.map((t) => t.parameters[p] as number);
    const logX = Math.min(...xs) > 0 && Math.max(...xs) / Math.min(...xs) > 100;
    return scatterChart(
      `${s.metric} against ${p}`,
      p,
      s.metric,
      s.trials.map((t) => ({
        x: t.parameters[p] as number,
        y: t.value,
        label: label(t, s.metric),
        best: t.best,
      })),
      logX,
    );
  });
  const params = [...new Set(s.trials.flatMap((t) => Object.keys(t.parameters)))];
  const rows = s.trials
    .map(
      (t) =>
        `<tr${t.best ? ' class="differs"' : ''}><td>#${t.trial}${t.best ? ' ★' : ''}</td><td><span class="st st-${esc(t.status)}">${esc(t.status)}</span></td>${params
          .map((p) => `<td>${esc(t.parameters[p] ?? '—')}</td>`)
          .join(
            '',
          )}<td class="${t.best ? 'best' : ''}">${t.value === null ? '—' : num(t.value)}</td><td>${t.trainingSeconds === null ? '—' : `${t.trainingSeconds.toFixed(1)} s`}</td><td>${esc(t.version ?? '')}</td><td>${esc(t.reason)}</td></tr>`,
    )
    .join('');
  // The chosen trial's run moves on (registered, succeeded): count by what was measured.
  const count = (f: (t: SweepPageTrial) => boolean) => s.trials.filter(f).length;
  const cancelled = count((t) => t.status === 'cancelled');
  const counts = `${count((t) => t.value !== null)} measured, ${count((t) => t.status === 'stopped')} stopped early, ${count((t) => t.status === 'failed')} failed${cancelled ? `, ${cancelled} cancelled` : ''}`;
  const body = `<h1>Sweep ${esc(s.id)}</h1>
<section><p>${esc(s.model)} for ${esc(s.stage)}, asked by ${esc(s.requestedBy)}: ${s.trials.length} of ${s.planned} planned trials (${counts}), at most ${s.concurrency} at once; ${esc(s.metric)} (${s.direction}) chooses, early stopping <code>${esc(s.rule)}</code>.</p></section>
<section><h2>Trials over time</h2>${overTime.join('\n')}</section>
<section><h2>Parameters against ${esc(s.metric)}</h2>${perParameter.join('\n') || '<p class="muted">No numeric parameter.</p>'}</section>
<section><h2>Trials</h2><table><tr><th>trial</th><th>status</th>${params.map((p) => `<th>${esc(p)}</th>`).join('')}<th>${esc(s.metric)}</th><th>training</th><th>version</th><th>why</th></tr>${rows}</table></section>`;
  return shell(`Sweep ${s.id}`, body, generatedAt);
}

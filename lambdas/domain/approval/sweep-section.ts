import { esc } from './html.js';

/** One trial of the sweep that chose the candidate, as its run recorded it. */
export interface SweepSectionTrial {
  readonly trial: number;
  readonly runId: string;
  readonly status: string;
  readonly parameters: Readonly<Record<string, string | number | boolean>>;
  readonly value: number | null;
  readonly reason: string;
  readonly chosen: boolean;
}

/** How a sweep's best trial was chosen: the metric, its direction, and every trial. */
export interface SweepSectionInput {
  readonly id: string;
  readonly metric: string;
  readonly direction: 'max' | 'min';
  readonly trials: readonly SweepSectionTrial[];
}

const num = (v: number | null) => (v === null ? '—' : v.toFixed(4));
const param = (v: string | number | boolean) =>
  typeof v === 'number' ? String(Number(v.toPrecision(4))) : String(v);

/**
 * The approval page's "How this candidate was chosen" for a sweep's best trial: a short table of
 * the trials, their swept parameters, the metric the platform measured and how each ended (a
 * stopped one with the early-stopping rule's reason). Plain HTML, every value escaped.
 */
export function sweepSection(input: SweepSectionInput): string {
  const rows = input.trials
    .map(
      (t) =>
        `<tr${t.chosen ? ' class="pass"' : ''}><td>${esc(t.trial)}${t.chosen ? ' <span class="badge">chosen</span>' : ''}</td>` +
        `<td>${esc(
          Object.entries(t.parameters)
            .map(([k, v]) => `${k}=${param(v)}`)
            .join(' '),
        )}</td><td>${num(t.value)}</td><td>${esc(t.status)}</td><td class="muted">${esc(t.reason)}</td></tr>`,
    )
    .join('');
  return (
    `<p>Best of ${esc(input.trials.length)} trial(s) of sweep <code>${esc(input.id)}</code> by ${esc(input.metric)} ` +
    `(${input.direction === 'max' ? 'higher' : 'lower'} is better), measured by mlcycle on each trial's holdout; ` +
    'stopped and failed trials were not eligible.</p>' +
    `<table><tr><th>trial</th><th>parameters</th><th>${esc(input.metric)}</th><th>status</th><th>why</th></tr>${rows}</table>`
  );
}

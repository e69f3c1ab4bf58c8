import { esc } from '../approval/html.js';

/** One trainer's per-epoch lines (metrics.jsonl, numeric fields only), in order. */
export type EpochLines = readonly Readonly<Record<string, number>>[];

/** Fields of a metrics line that count epochs or time, never plotted as a metric. */
const AXIS_FIELDS = ['epoch', 'iteration', 'step'];
const NOT_CURVES = new Set([...AXIS_FIELDS, 'seconds', 'resumedFromEpoch', 'learningRate']);

/** The x of each line: its `epoch`, `iteration` or `step` if it has one, else its position. */
export function xOf(line: Readonly<Record<string, number>>, index: number): number {
  for (const f of AXIS_FIELDS) if (typeof line[f] === 'number') return line[f];
  return index + 1;
}

export const xLabelOf = (epochs: EpochLines): string =>
  AXIS_FIELDS.find((f) => epochs.some((e) => typeof e[f] === 'number')) ?? 'line';

/** Every curve-worthy field of some lines, first-seen order. */
export function curveFields(epochs: EpochLines): string[] {
  return [...new Set(epochs.flatMap((e) => Object.keys(e)))].filter((k) => !NOT_CURVES.has(k));
}

/**
 * The curves a page shows, as groups of fields: the losses (train and validation, any name with
 * "loss"), then the primary metric (fields ending in its name: `holdoutAuc`, `validationRmse`),
 * then, if neither is there, the first few other fields one by one.
 */
export function curveGroups(
  fields: readonly string[],
  primaryMetric: string,
): { title: string; fields: string[] }[] {
  const losses = fields.filter((f) => /loss/i.test(f));
  const primary = fields.filter(
    (f) => !losses.includes(f) && f.toLowerCase().endsWith(primaryMetric.toLowerCase()),
  );
  const groups = [
    ...(losses.length ? [{ title: 'loss (train and validation)', fields: losses }] : []),
    ...(primary.length ? [{ title: `${primaryMetric} (primary metric)`, fields: primary }] : []),
  ];
  if (groups.length) return groups;
  return fields.slice(0, 4).map((f) => ({ title: f, fields: [f] }));
}

export interface Series {
  readonly label: string;
  readonly points: readonly (readonly [number, number])[];
}

/** Distinct colours, in order (colour-blind friendly: Okabe–Ito, then darker variants). */
export const PALETTE = [
  '#0072b2',
  '#d55e00',
  '#009e73',
  '#cc79a7',
  '#e69f00',
  '#56b4e9',
  '#000000',
  '#8c6d31',
];

const num = (v: number) =>
  Math.abs(v) >= 1000 || (Math.abs(v) < 0.001 && v !== 0)
    ? v.toExponential(2)
    : Number(v.toPrecision(4)).toString();

/**
 * An inline SVG line chart: one `<path class="series">` per series (a one-point series is a
 * dot), y ticks, the x axis labelled, and a legend naming each series in its colour.
 */
export function lineChart(title: string, xLabel: string, series: readonly Series[]): string {
  const w = 640;
  const h = 240;
  const pad = { l: 56, r: 16, t: 24, b: 36 };
  const all = series.flatMap((s) => s.points);
  if (!all.length) return `<p class="muted">${esc(title)}: no values.</p>`;
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  if (y0 === y1) [y0, y1] = [y0 - Math.abs(y0 || 1) * 0.05, y1 + Math.abs(y1 || 1) * 0.05];
  const X = (v: number) => pad.l + ((v - x0) / (x1 - x0)) * (w - pad.l - pad.r);
  const Y = (v: number) => h - pad.b - ((v - y0) / (y1 - y0)) * (h - pad.t - pad.b);
  const ticks = [0, 0.5, 1]
    .map((f) => y0 + f * (y1 - y0))
    .map(
      (v) =>
        `<line x1="${pad.l}" y1="${Y(v).toFixed(1)}" x2="${w - pad.r}" y2="${Y(v).toFixed(1)}" stroke="#eee"/><text class="ytick" x="${pad.l - 5}" y="${(Y(v) + 3).toFixed(1)}" font-size="9" text-anchor="end" fill="#555">${num(v)}</text>`,
    )
    .join('');
  const xticks = [x0, (x0 + x1) / 2, x1]
    .map(
      (v) =>
        `<text x="${X(v).toFixed(1)}" y="${h - pad.b + 13}" font-size="9" text-anchor="middle" fill="#555">${num(Math.round(v * 100) / 100)}</text>`,
    )
    .join('');
  const paths = series
    .map((s, i) => {
      const colour = PALETTE[i % PALETTE.length];
      const sorted = [...s.points].sort((a, b) => a[0] - b[0]);
      const d = sorted.map((p, j) => `${j ? 'L' : 'M'}${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join(' ');
      const last = sorted[sorted.length - 1];
      const dot =
        sorted.length === 1 && last
          ? `<circle cx="${X(last[0]).toFixed(1)}" cy="${Y(last[1]).toFixed(1)}" r="3" fill="${colour}"/>`
          : '';
      return `<path class="series" data-label="${esc(s.label)}" d="${d}" fill="none" stroke="${colour}" stroke-width="2"><title>${esc(s.label)}${last ? `: last ${num(last[1])} at ${esc(xLabel)} ${num(last[0])}` : ''}</title></path>${dot}`;
    })
    .join('\n');
  const legend = series
    .map(
      (s, i) =>
        `<span class="key"><i style="background:${PALETTE[i % PALETTE.length]}"></i>${esc(s.label)}</span>`,
    )
    .join(' ');
  return `<figure><figcaption>${esc(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(title)}">
${ticks}${xticks}
<line x1="${pad.l}" y1="${h - pad.b}" x2="${w - pad.r}" y2="${h - pad.b}" stroke="#999"/><line x1="${pad.l}" y1="${pad.t}" x2="${pad.l}" y2="${h - pad.b}" stroke="#999"/>
<text x="${(w + pad.l) / 2}" y="${h - 6}" font-size="10" text-anchor="middle" fill="#555">${esc(xLabel)}</text>
${paths}</svg><div class="legend">${legend}</div></figure>`;
}

import type { Measured } from '../../contracts/drift-summary.js';
import type { FeatureDrift } from './drift-result.js';

/** What was measured for one column: the contract's shape (see contracts/drift-summary.ts). */
export type { Measured };

const percent = (share: number) => Math.round(share * 1e4) / 100;

/** Below this a p-value is kept as 0 (DynamoDB numbers stop at 1e-130) and shown as "< 1e-100". */
const P_FLOOR = 1e-100;

/** Three significant digits; 0 below 1e-100 (a record must be storable whatever the p-value). */
function storablePValue(p: number): number {
  return p < P_FLOOR ? 0 : Number(p.toPrecision(3));
}

export function measuredOf(f: FeatureDrift): Measured {
  const d = f.details;
  const out: Measured = {
    missingPercent: {
      baseline: percent(d.missingRate.baseline),
      batch: percent(d.missingRate.batch),
      ...(d.missingRate.noiseMargin !== undefined ? { noiseMargin: percent(d.missingRate.noiseMargin) } : {}),
    },
  };
  for (const key of [
    'ks',
    'ksNoiseMargin',
    'jensenShannon',
    'jensenShannonNoiseMargin',
    'pValue',
    'wassersteinNormalized',
    'wassersteinNoiseMargin',
    'psi',
  ] as const) {
    const v = d[key];
    if (typeof v === 'number') out[key] = key === 'pValue' ? storablePValue(v) : v;
  }
  if (d.pValueTest) out.pValueTest = d.pValueTest;
  return out;
}

const n4 = (v: number) => Number(v.toFixed(4)).toString();
const p = (v: number) => (v >= 0.001 ? n4(v) : v < P_FLOOR ? '< 1e-100' : v.toExponential(1));

/** One line: "KS 0.112 (noise 0.015, p 1.2e-153) · W/σ 0.47 (noise 0.03) · PSI 0.24 · missing 2 % → 2.1 %". */
export function measuredLine(m: Measured): string {
  const parts: string[] = [];
  const pv = m.pValue !== undefined ? `, ${m.pValueTest === 'chi-square' ? 'χ² ' : ''}p ${p(m.pValue)}` : '';
  if (m.ks !== undefined) parts.push(`KS ${n4(m.ks)} (noise ${n4(m.ksNoiseMargin ?? 0)}${pv})`);
  if (m.wassersteinNormalized !== undefined)
    parts.push(`W/σ ${n4(m.wassersteinNormalized)} (noise ${n4(m.wassersteinNoiseMargin ?? 0)})`);
  if (m.jensenShannon !== undefined)
    parts.push(`JS ${n4(m.jensenShannon)} (noise ${n4(m.jensenShannonNoiseMargin ?? 0)}${pv})`);
  if (m.psi !== undefined) parts.push(`PSI ${n4(m.psi)}`);
  parts.push(`missing ${m.missingPercent.baseline} % → ${m.missingPercent.batch} %`);
  return parts.join(' · ');
}

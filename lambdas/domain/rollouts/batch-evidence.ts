import type { RolloutVariant } from '../../contracts/rollout.js';
import type { LatencyHistogram, RolloutEvidence, VariantEvidence } from '../../contracts/rollout-evidence.js';
import type { TaskType } from '../../contracts/trainer.js';
import { DataError } from '../errors.js';
import { addOutcome, addValue, emptyMean, emptyRate, latencyBucket } from './evidence.js';

/**
 * One monitoring batch's rows → per-variant evidence of the ramp step in force, fed row by row
 * (bounded memory but for the distinct players of the batch). Columns are named by the deployed
 * config (`models.<m>.rollout.columns`), never by the batch:
 *
 * - `variant`: the variant's name, or the model version that served the row (mapped to the
 *   variant serving it through the rollout record's variants);
 * - `player`: distinct players per variant in this batch are its `assigned` count. A player seen
 *   in two batches counts in both (docs/rollouts.md "Per-variant evidence" says what that does to
 *   the sample-ratio check) — unless `exposure` names a column the client sets (1/true/yes) on
 *   the one event it logs when the player is first assigned: then only those rows assign, so each
 *   player is counted once over the whole rollout and the sample-ratio check is exact;
 * - `latencyMs` → the latency histogram; `error` (0/1, true/false) → rate `error`;
 * - `outcomes` (name → mean|rate) → means / rates under that name;
 * - the model's label and `prediction`, when both are present → rate `correct` (binary and
 *   multiclass: the prediction, or a probability ≥ 0.5, equals the label) or mean `abs_error`
 *   (regression): the live quality of each variant.
 *
 * Rows whose variant the rollout does not have are counted and reported, never dropped silently;
 * values a column cannot hold (a latency that is no number) are counted per column.
 */

/** The metric names the aggregator fills itself; configured outcomes must not reuse them. */
export const ERROR_RATE = 'error';
export const CORRECT_RATE = 'correct';
export const ABS_ERROR_MEAN = 'abs_error';
export const RESERVED_METRICS: readonly string[] = [ERROR_RATE, CORRECT_RATE, ABS_ERROR_MEAN];

/** A row's values by column name: strings from CSV, JSON values from JSONL. */
export type Row = Readonly<Record<string, unknown>>;

export interface BatchColumns {
  readonly variant: string;
  readonly player: string;
  /** A first-exposure flag column: when set, only flagged rows count a player in `assigned`. */
  readonly exposure?: string | undefined;
  readonly latencyMs?: string | undefined;
  readonly error?: string | undefined;
  readonly outcomes: Readonly<Record<string, 'mean' | 'rate'>>;
  /** The model's label column (its target) and prediction column; live quality when both are present. */
  readonly label?: string | undefined;
  readonly prediction?: string | undefined;
}

export interface BatchEvidenceOptions {
  readonly columns: BatchColumns;
  /** The variants of the step in force (from the rollout record), control last. */
  readonly variants: readonly Pick<RolloutVariant, 'name' | 'version'>[];
  /** The ramp step the batch's rows were assigned under (the record's latest step). */
  readonly step: string;
  readonly task: TaskType;
}

export interface BatchEvidence {
  readonly evidence: RolloutEvidence;
  readonly rows: number;
  /** Rows per variant (before distinct players). */
  readonly rowsByVariant: Readonly<Record<string, number>>;
  /** Rows whose variant value names no variant (nor version) of the rollout, with up to 10 such values. */
  readonly unknownVariantRows: number;
  readonly unknownVariants: readonly { value: string; rows: number }[];
  /** Rows without a player id (their metrics count; they assign no one). */
  readonly missingPlayerRows: number;
  /** Players seen under more than one variant in this batch (an assignment or logging fault). */
  readonly playersInSeveralVariants: number;
  /** Values a column could not hold, per column (skipped for that metric only). */
  readonly invalid: Readonly<Record<string, number>>;
}

const MAX_UNKNOWN_VALUES = 10;
const TRUE = new Set(['1', 'true', 'yes']);
const FALSE = new Set(['0', 'false', 'no']);

/** A 0/1 or true/false value; undefined when it is neither (an empty cell is neither). */
export function flagOf(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (v === 1 || v === 0) return v === 1;
  if (typeof v !== 'string') return undefined;
  const s = v.trim().toLowerCase();
  return TRUE.has(s) ? true : FALSE.has(s) ? false : undefined;
}

/** A finite number from a JSON number or a numeric string; undefined otherwise (an empty cell too). */
export function numberOf(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v !== 'string' || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

const textOf = (v: unknown): string | undefined =>
  typeof v === 'string'
    ? v.trim() === ''
      ? undefined
      : v.trim()
    : typeof v === 'number'
      ? String(v)
      : undefined;

interface Arm {
  players: Set<string>;
  rows: number;
  means: Map<string, ReturnType<typeof emptyMean>>;
  rates: Map<string, ReturnType<typeof emptyRate>>;
  latency: Map<number, number>;
}

export class BatchEvidenceAccumulator {
  private readonly byName = new Map<string, string>();
  private readonly arms = new Map<string, Arm>();
  private readonly unknown = new Map<string, number>();
  private readonly invalid = new Map<string, number>();
  private readonly playerVariant = new Map<string, string | null>();
  private rows = 0;
  private unknownRows = 0;
  private missingPlayer = 0;

  constructor(private readonly options: BatchEvidenceOptions) {
    for (const name of Object.keys(options.columns.outcomes)) {
      if (RESERVED_METRICS.includes(name)) {
        throw new DataError(
          `rollout outcome "${name}" reuses a name the aggregator fills itself (${RESERVED_METRICS.join(', ')}); rename it in models.<model>.rollout.columns.outcomes`,
        );
      }
    }
    // Versions first, then names: a variant named like another's version still resolves to itself.
    for (const v of options.variants) this.byName.set(v.version, v.name);
    for (const v of options.variants) this.byName.set(v.name, v.name);
  }

  add(row: Row): void {
    this.rows++;
    const c = this.options.columns;
    const raw = textOf(row[c.variant]);
    const variant = raw === undefined ? undefined : this.byName.get(raw);
    if (variant === undefined) {
      this.unknownRows++;
      const key = raw ?? '(empty)';
      if (this.unknown.has(key) || this.unknown.size < MAX_UNKNOWN_VALUES) {
        this.unknown.set(key, (this.unknown.get(key) ?? 0) + 1);
      }
      return;
    }
    const arm = this.arm(variant);
    arm.rows++;
    const player = textOf(row[c.player]);
    const exposed = c.exposure === undefined ? true : flagOf(row[c.exposure]);
    // a row whose flag is no 0/1 or true/false assigns no one, and is counted as a bad value
    if (exposed === undefined && c.exposure !== undefined) this.bad(c.exposure);
    const assigns = exposed === true;
    if (player === undefined) this.missingPlayer++;
    else if (assigns && !arm.players.has(player)) {
      arm.players.add(player);
      const seen = this.playerVariant.get(player);
      if (seen === undefined) this.playerVariant.set(player, variant);
      else if (seen !== variant) this.playerVariant.set(player, null);
    }
    if (c.latencyMs !== undefined) {
      const ms = numberOf(row[c.latencyMs]);
      if (ms === undefined || ms < 0) this.bad(c.latencyMs);
      else {
        const k = latencyBucket(ms);
        arm.latency.set(k, (arm.latency.get(k) ?? 0) + 1);
      }
    }
    if (c.error !== undefined) this.addRate(arm, ERROR_RATE, c.error, row[c.error]);
    for (const [name, type] of Object.entries(c.outcomes)) {
      if (type === 'rate') this.addRate(arm, name, name, row[name]);
      else this.addMean(arm, name, name, numberOf(row[name]));
    }
    if (c.label !== undefined && c.prediction !== undefined) this.addQuality(arm, row, c.label, c.prediction);
  }

  private addQuality(arm: Arm, row: Row, labelColumn: string, predictionColumn: string): void {
    const label = row[labelColumn];
    const prediction = row[predictionColumn];
    // unlabelled rows (the label arrives later, or never) are no quality evidence, and no fault
    if (textOf(label) === undefined && typeof label !== 'boolean') return;
    if (this.options.task === 'regression') {
      const [y, p] = [numberOf(label), numberOf(prediction)];
      if (y === undefined || p === undefined) {
        this.bad(predictionColumn);
        return;
      }
      this.addMean(arm, ABS_ERROR_MEAN, predictionColumn, Math.abs(y - p));
      return;
    }
    if (this.options.task === 'binary') {
      const y = flagOf(label);
      const p =
        numberOf(prediction) ?? (flagOf(prediction) === undefined ? undefined : Number(flagOf(prediction)));
      if (y === undefined || p === undefined || p < 0 || p > 1) {
        this.bad(predictionColumn);
        return;
      }
      arm.rates.set(CORRECT_RATE, addOutcome(arm.rates.get(CORRECT_RATE) ?? emptyRate(), p >= 0.5 === y));
      return;
    }
    const [y, p] = [textOf(label), textOf(prediction)];
    if (y === undefined || p === undefined) {
      this.bad(predictionColumn);
      return;
    }
    arm.rates.set(CORRECT_RATE, addOutcome(arm.rates.get(CORRECT_RATE) ?? emptyRate(), y === p));
  }

  private addRate(arm: Arm, metric: string, column: string, value: unknown): void {
    const flag = flagOf(value);
    if (flag === undefined) {
      this.bad(column);
      return;
    }
    arm.rates.set(metric, addOutcome(arm.rates.get(metric) ?? emptyRate(), flag));
  }

  private addMean(arm: Arm, metric: string, column: string, x: number | undefined): void {
    if (x === undefined) {
      this.bad(column);
      return;
    }
    arm.means.set(metric, addValue(arm.means.get(metric) ?? emptyMean(), x));
  }

  /** A value its column cannot hold; a missing cell counts too (the config says the column is there). */
  private bad(column: string): void {
    this.invalid.set(column, (this.invalid.get(column) ?? 0) + 1);
  }

  private arm(variant: string): Arm {
    let arm = this.arms.get(variant);
    if (!arm) {
      arm = { players: new Set(), rows: 0, means: new Map(), rates: new Map(), latency: new Map() };
      this.arms.set(variant, arm);
    }
    return arm;
  }

  result(): BatchEvidence {
    const variants = new Map<string, VariantEvidence>();
    const rowsByVariant = new Map<string, number>();
    for (const [name, arm] of this.arms) {
      const latency: LatencyHistogram = Object.fromEntries(
        [...arm.latency].sort(([a], [b]) => a - b).map(([k, n]) => [String(k), n]),
      );
      variants.set(name, {
        assigned: arm.players.size,
        means: Object.fromEntries(arm.means),
        rates: Object.fromEntries(arm.rates),
        latency,
      });
      rowsByVariant.set(name, arm.rows);
    }
    let several = 0;
    for (const v of this.playerVariant.values()) if (v === null) several++;
    return {
      evidence: { steps: variants.size ? { [this.options.step]: Object.fromEntries(variants) } : {} },
      rows: this.rows,
      rowsByVariant: Object.fromEntries(rowsByVariant),
      unknownVariantRows: this.unknownRows,
      unknownVariants: [...this.unknown]
        .map(([value, rows]) => ({ value, rows }))
        .sort((a, b) => b.rows - a.rows || a.value.localeCompare(b.value)),
      missingPlayerRows: this.missingPlayer,
      playersInSeveralVariants: several,
      invalid: Object.fromEntries(this.invalid),
    };
  }
}

/** Above this share of rows with an unknown variant, a batch is a data error, not evidence. */
export const MAX_UNKNOWN_VARIANT_SHARE = 0.01;

/**
 * What is wrong with a batch as rollout evidence, in one line, or undefined when it is fit:
 * no rows of the rollout's variants, or more than `maxUnknownShare` of rows naming a variant the
 * rollout does not have (a mislabelled export would otherwise bias the comparison).
 */
export function batchEvidenceProblem(
  b: BatchEvidence,
  variants: readonly Pick<RolloutVariant, 'name' | 'version'>[],
  variantColumn: string,
  maxUnknownShare = MAX_UNKNOWN_VARIANT_SHARE,
): string | undefined {
  const known = variants.map((v) => `${v.name} (${v.version})`).join(', ');
  if (b.rows === 0) return 'the batch has no rows';
  const share = b.unknownVariantRows / b.rows;
  if (b.unknownVariantRows === b.rows || share > maxUnknownShare) {
    const values = b.unknownVariants.map((u) => `"${u.value}" ×${u.rows}`).join(', ');
    return (
      `${b.unknownVariantRows} of ${b.rows} rows (${(share * 100).toFixed(1)} %) have a ${variantColumn} the rollout does not have ` +
      `(${values}); expected one of ${known}: fix the export's ${variantColumn} column and upload the batch again`
    );
  }
  return undefined;
}

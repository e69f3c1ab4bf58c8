import { DataError } from '../errors.js';
import { ColumnAccumulator } from './column-accumulator.js';
import { CsvScanner, fieldText, parseNumber } from './csv-scanner.js';
import { addPrediction, newPerformance, type PerformanceState } from './performance.js';
import type { ColumnKind, Profile } from './profile.js';

export type DataFormat = 'csv' | 'jsonl';

export interface ProfileOptions {
  readonly format: DataFormat;
  /** Kinds to use instead of inferring (pinned in config, or the baseline's). */
  readonly kinds?: Readonly<Record<string, ColumnKind>>;
  readonly categoricalCap?: number;
  readonly sketchK?: number;
  readonly seed?: number;
  readonly maxRowBytes?: number;
  /** Label and prediction columns: when both are in the file, performance is measured too. */
  readonly performance?: { readonly label: string; readonly prediction: string };
}

/** Markers of a missing value besides an empty field. */
const NULL_TOKENS = new Set(['na', 'n/a', 'null', 'none', 'nan', '']);

/**
 * One pass over a data file's bytes → its Profile, with bounded memory (sketches and capped
 * category counts; rows are never kept). Feed chunks with push(), then call finish().
 */
export class Profiler {
  private accumulators: ColumnAccumulator[] = [];
  private byName = new Map<string, ColumnAccumulator>();
  private rows = 0;
  private ragged = 0;
  private oversized = 0;
  private examples: number[] = [];
  private readonly warnings: string[] = [];
  private readonly csv: CsvScanner | undefined;
  private jsonCarry = '';
  private perf: { state: PerformanceState; label: number; prediction: number } | undefined;
  private jsonLine = 0;

  constructor(private readonly options: ProfileOptions) {
    if (options.format === 'csv') {
      this.csv = new CsvScanner(
        {
          header: (columns) => this.header(columns),
          row: (buf, starts, ends, flags, count, line) => this.csvRow(buf, starts, ends, flags, count, line),
          oversized: (line) => {
            this.oversized++;
            if (this.examples.length < 10) this.examples.push(line);
          },
        },
        options.maxRowBytes,
      );
    }
  }

  private column(name: string): ColumnAccumulator {
    let acc = this.byName.get(name);
    if (!acc) {
      acc = new ColumnAccumulator(
        name,
        this.options.kinds?.[name],
        this.options.categoricalCap ?? 200,
        this.options.sketchK ?? 400,
        (this.options.seed ?? 1) + this.accumulators.length,
      );
      this.byName.set(name, acc);
      this.accumulators.push(acc);
    }
    return acc;
  }

  private header(columns: string[]): void {
    const seen = new Set<string>();
    for (const [i, raw] of columns.entries()) {
      let name = raw || `column_${i + 1}`;
      if (seen.has(name)) {
        this.warnings.push(
          `column "${name}" appears twice in the header; the second is profiled as "${name}_${i + 1}"`,
        );
        name = `${name}_${i + 1}`;
      }
      seen.add(name);
      this.column(name);
    }
    this.setUpPerformance(columns);
  }

  private setUpPerformance(columns: readonly string[]): void {
    const roles = this.options.performance;
    if (!roles) return;
    const label = columns.indexOf(roles.label);
    const prediction = columns.indexOf(roles.prediction);
    if (label >= 0 && prediction >= 0) this.perf = { state: newPerformance(), label, prediction };
  }

  private csvRow(
    buf: Buffer,
    starts: Int32Array,
    ends: Int32Array,
    flags: Uint8Array,
    count: number,
    line: number,
  ) {
    const accs = this.accumulators;
    if (count !== accs.length) {
      this.ragged++;
      if (this.examples.length < 10) this.examples.push(line);
      return;
    }
    this.rows++;
    for (let c = 0; c < count; c++) {
      const acc = accs[c] as ColumnAccumulator;
      const s = starts[c] as number;
      const e = ends[c] as number;
      if (e <= s) {
        acc.addMissing();
        continue;
      }
      if (acc.wantsNumber && !(flags[c] as number)) {
        const x = parseNumber(buf, s, e);
        if (Number.isFinite(x)) {
          acc.addNumber(x, acc.wantsText ? buf.toString('utf8', s, e).trim() : undefined);
          continue;
        }
      }
      const text = fieldText(buf, s, e, flags[c] as number).trim();
      if (NULL_TOKENS.has(text.toLowerCase())) acc.addMissing();
      else acc.addText(text);
    }
    const perf = this.perf;
    if (perf) {
      addPrediction(
        perf.state,
        parseNumber(buf, starts[perf.label] as number, ends[perf.label] as number),
        parseNumber(buf, starts[perf.prediction] as number, ends[perf.prediction] as number),
      );
    }
  }

  private jsonRow(line: string): void {
    this.jsonLine++;
    if (!line.trim()) return;
    if (line.length > (this.options.maxRowBytes ?? 1 << 20)) {
      this.oversized++;
      if (this.examples.length < 10) this.examples.push(this.jsonLine);
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      this.ragged++;
      if (this.examples.length < 10) this.examples.push(this.jsonLine);
      return;
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      this.ragged++;
      return;
    }
    const record = value as Record<string, unknown>;
    this.rows++;
    if (this.rows === 1) {
      for (const k of Object.keys(record)) this.column(k);
      const roles = this.options.performance;
      if (roles && roles.label in record && roles.prediction in record) {
        this.perf = { state: newPerformance(), label: -1, prediction: -1 };
      }
    }
    const roles = this.options.performance;
    if (this.perf && roles)
      addPrediction(this.perf.state, Number(record[roles.label]), Number(record[roles.prediction]));
    for (const k of Object.keys(record)) if (!this.byName.has(k)) this.column(k);
    for (const acc of this.accumulators) {
      const v = record[acc.name];
      if (v === null || v === undefined || v === '') acc.addMissing();
      else if (typeof v === 'number' && Number.isFinite(v)) acc.addNumber(v, String(v));
      else {
        const text = typeof v === 'object' ? JSON.stringify(v) : String(v).trim();
        const x = acc.wantsNumber && typeof v === 'string' && text !== '' ? Number(text) : Number.NaN;
        if (Number.isFinite(x)) acc.addNumber(x, text);
        else if (NULL_TOKENS.has(text.toLowerCase())) acc.addMissing();
        else acc.addText(text);
      }
    }
  }

  push(chunk: Buffer): void {
    if (this.csv) {
      this.csv.push(chunk);
      return;
    }
    const text = this.jsonCarry + chunk.toString('utf8');
    const lines = text.split('\n');
    this.jsonCarry = lines.pop() ?? '';
    for (const line of lines) this.jsonRow(line.replace(/^\uFEFF/, ''));
    if (this.jsonCarry.length > (this.options.maxRowBytes ?? 1 << 20) * 2) {
      // a line far past the limit: count it once and drop what we hold of it
      this.jsonRow(this.jsonCarry);
      this.jsonCarry = '';
    }
  }

  finish(): Profile {
    if (this.csv) this.csv.end();
    else if (this.jsonCarry) this.jsonRow(this.jsonCarry);
    if (!this.accumulators.length) throw new DataError('the file is empty: no header row and no data');
    if (this.rows === 0) {
      throw new DataError(
        this.ragged || this.oversized
          ? `no readable rows: ${this.ragged} ragged and ${this.oversized} oversized rows were skipped`
          : 'the file has a header but no data rows',
      );
    }
    const columns = Object.fromEntries(this.accumulators.map((a) => [a.name, a.finish()]));
    const warnings = [...this.warnings];
    for (const [name, p] of Object.entries(columns)) {
      if (p.kind === 'numeric' && p.invalid)
        warnings.push(`column "${name}": ${p.invalid} non-numeric values counted as missing`);
      if (p.count === 0) warnings.push(`column "${name}" has no values`);
    }
    if (this.ragged)
      warnings.push(`${this.ragged} rows skipped: wrong number of fields (e.g. line ${this.examples[0]})`);
    if (this.oversized) warnings.push(`${this.oversized} rows skipped: longer than the row limit`);
    return {
      schema: 'mlcycle.profile/v1',
      rows: this.rows,
      columns,
      skipped: { ragged: this.ragged, oversized: this.oversized, examples: this.examples },
      warnings,
      ...(this.perf ? { performance: this.perf.state } : {}),
    };
  }
}

/** Profiles a whole in-memory file (tests, small files). */
export function profileBytes(bytes: Buffer, options: ProfileOptions): Profile {
  const p = new Profiler(options);
  p.push(bytes);
  return p.finish();
}

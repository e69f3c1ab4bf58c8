import { DataError } from '../errors.js';
import { ColumnAccumulator, type ColumnState } from './column-accumulator.js';
import { FastCsvRows } from './csv-fast-rows.js';
import { addCsvField, type FieldSink, NULL_TOKENS } from './csv-field.js';
import { CsvScanner, parseNumber } from './csv-scanner.js';
import { DEFAULT_SKETCH_K } from './kll.js';
import { addPrediction, mergePerformance, newPerformance, type PerformanceState } from './performance.js';
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
  /**
   * Data rows after which a column whose kind is still open is settled from what it has seen
   * (numeric if every present value parsed as a number). Later text in a numeric column is
   * counted as invalid, reported, and scored as missing. Default 10,000; parts of a file
   * profiled in parallel get their kinds from the first rows instead (see sniffKinds).
   */
  readonly pinAfterRows?: number;
  /**
   * CSV rows in the usual form go through the fast reader (FastCsvRows); false sends every row
   * through the general one. The profile is the same either way (tests compare the two).
   * @default true
   */
  readonly fastRows?: boolean;
}

export const DEFAULT_MAX_ROW_BYTES = 1 << 20;
export const DEFAULT_PIN_AFTER_ROWS = 10_000;

/** Where a skipped row was: its row number within a block of the file (block 0 = whole file). */
export interface RowRef {
  block: number;
  line: number;
}

/** Everything a profiler has gathered, as plain data: mergeable and sendable between threads. */
export interface ProfilerState {
  columns: ColumnState[];
  rows: number;
  ragged: number;
  oversized: number;
  unterminated: number;
  headerOversized: boolean;
  /** The first skipped rows (up to 10 per part). */
  examples: RowRef[];
  /** Row count per block pushed with pushBlock (to turn block-relative rows into file rows). */
  blockLines: [number, number][];
  warnings: string[];
  performance: PerformanceState | undefined;
}

const LF = 0x0a;
const MAX_EXAMPLES = 10;

/** A CSV header's column names: blanks named by position, repeats made unique (and said). */
export function columnNames(header: readonly string[]): { names: string[]; warnings: string[] } {
  const seen = new Set<string>();
  const warnings: string[] = [];
  const names = header.map((raw, i) => {
    let name = raw || `column_${i + 1}`;
    if (seen.has(name)) {
      warnings.push(
        `column "${name}" appears twice in the header; the second is profiled as "${name}_${i + 1}"`,
      );
      name = `${name}_${i + 1}`;
    }
    seen.add(name);
    return name;
  });
  return { names, warnings };
}

/**
 * The kinds the first rows of a CSV file support, as a Profiler would settle them (numeric
 * when every present value is a number, categorical when one is text, open when all are
 * missing), without profiling them: a column's values are only classified. `rows`: whole data
 * rows, no header; rows with the wrong number of fields are left out, as the profiler does.
 */
export function sniffCsvKinds(
  rows: Buffer,
  header: readonly string[],
  maxRowBytes = DEFAULT_MAX_ROW_BYTES,
): Record<string, ColumnKind> {
  const { names } = columnNames(header);
  // an open column as the profiler reads it (numbers first), counting what each value was
  const seen = names.map(() => ({
    numbers: 0,
    texts: 0,
    wantsNumber: true,
    wantsText: false,
    addMissing() {},
    addNumber() {
      this.numbers++;
    },
    addText() {
      this.texts++;
    },
  }));
  const scanner = new CsvScanner(
    {
      header: () => undefined,
      row: (buf, starts, ends, flags, count) => {
        if (count !== names.length) return;
        for (let c = 0; c < count; c++) {
          addCsvField(seen[c] as FieldSink, buf, starts[c] as number, ends[c] as number, flags[c] as number);
        }
      },
      oversized: () => undefined,
      unterminated: () => undefined,
    },
    maxRowBytes,
    true,
  );
  scanner.push(rows);
  scanner.end();
  const kinds: Record<string, ColumnKind> = {};
  names.forEach((name, c) => {
    const { numbers, texts } = seen[c] as { numbers: number; texts: number };
    if (texts) kinds[name] = 'categorical';
    else if (numbers) kinds[name] = 'numeric';
  });
  return kinds;
}

/**
 * One pass over a data file's bytes → its Profile, with bounded memory (sketches and capped
 * category counts; rows are never kept). Feed a whole file with push() then finish(); or, for
 * parallel profiling, give the header up front and feed blocks of whole rows with pushBlock(),
 * then hand state() to mergeProfilerStates and finishProfile.
 */
export class Profiler {
  private accumulators: ColumnAccumulator[] = [];
  private byName = new Map<string, ColumnAccumulator>();
  private rows = 0;
  private ragged = 0;
  private oversized = 0;
  private unterminated = 0;
  private headerOversized = false;
  private examples: RowRef[] = [];
  private blockLines: [number, number][] = [];
  private warnings: string[] = [];
  /** Warnings about the header itself (repeated names): a restart keeps them. */
  private headerWarnings: string[] = [];
  private csv: CsvScanner | undefined;
  /** JSON Lines reading state (as CsvScanner keeps for CSV). */
  private readonly json = {
    carry: undefined as Buffer | undefined,
    carryBase: 0,
    received: 0,
    skipping: false,
    atStart: true,
    stopAt: Number.POSITIVE_INFINITY,
    stoppedAt: undefined as number | undefined,
  };
  /** Set for a part of a file split by byte ranges: its index, for row numbers. */
  private partIndex: number | undefined;
  private perf: { state: PerformanceState; label: number; prediction: number } | undefined;
  private jsonLine = 0;
  private block = 0;
  private pinned = false;
  /** The fast row reader, once every column's kind is settled (or stays open for good). */
  private fast: FastCsvRows | undefined;
  private readonly maxRowBytes: number;
  private readonly pinAfterRows: number;

  /** `header`: the column names, for a part of a CSV file that does not start with them. */
  constructor(
    private options: ProfileOptions,
    header?: readonly string[],
  ) {
    this.maxRowBytes = options.maxRowBytes ?? DEFAULT_MAX_ROW_BYTES;
    this.pinAfterRows = options.pinAfterRows ?? DEFAULT_PIN_AFTER_ROWS;
    if (options.format === 'csv') {
      if (header) this.header(header);
      this.csv = this.newScanner(Boolean(header));
    }
  }

  /**
   * Starts over on another part of the same CSV file, with another seed, as a new Profiler
   * given the same options and header would: the columns keep the arrays they have grown
   * (sketch levels, number batches, the fast reader's cells), so a worker profiling part
   * after part does not leave megabytes of them to the collector each time. CSV parts only:
   * their columns are fixed by the header (JSON keys come and go).
   */
  restart(seed: number): void {
    if (!this.csv || !this.accumulators.length) throw new Error('restart is for CSV parts with a header');
    this.options = { ...this.options, seed };
    this.rows = 0;
    this.ragged = 0;
    this.oversized = 0;
    this.unterminated = 0;
    this.headerOversized = false;
    this.examples = [];
    this.blockLines = [];
    this.warnings = [...this.headerWarnings];
    this.partIndex = undefined;
    this.block = 0;
    this.accumulators.forEach((acc, i) => {
      acc.restart(seed + i);
    });
    if (this.perf) this.perf.state = newPerformance();
    this.fast?.restart();
    this.csv = this.newScanner(true);
  }

  private newScanner(headerless: boolean): CsvScanner {
    const scanner = new CsvScanner(
      {
        header: (columns) => this.header(columns),
        row: (buf, starts, ends, flags, count, line) => this.csvRow(buf, starts, ends, flags, count, line),
        oversized: (line) => {
          if (!this.accumulators.length) this.headerOversized = true;
          this.oversized++;
          this.example(line);
        },
        unterminated: (line) => {
          this.unterminated++;
          this.example(line);
        },
      },
      this.maxRowBytes,
      headerless,
    );
    scanner.fast = this.fastRows();
    return scanner;
  }

  /**
   * The fast path reads rows only once kinds cannot change any more: after pinning, or from the
   * start when they never will (parts of a file profiled in parallel come with their kinds).
   */
  private fastRows(): FastCsvRows | undefined {
    if (this.fast || !this.accumulators.length || this.options.fastRows === false) return this.fast;
    if (!this.pinned && Number.isFinite(this.pinAfterRows)) return undefined;
    this.fast = FastCsvRows.for({
      accumulators: this.accumulators,
      maxRowBytes: this.maxRowBytes,
      performance: this.perf,
      onRows: (rows) => {
        this.rows += rows;
      },
    });
    return this.fast;
  }

  private example(line: number): void {
    if (this.examples.length < MAX_EXAMPLES) this.examples.push({ block: this.block, line });
  }

  private column(name: string): ColumnAccumulator {
    let acc = this.byName.get(name);
    if (!acc) {
      acc = new ColumnAccumulator(
        name,
        this.options.kinds?.[name],
        this.options.categoricalCap ?? 200,
        this.options.sketchK ?? DEFAULT_SKETCH_K,
        (this.options.seed ?? 1) + this.accumulators.length,
      );
      // A column first seen in a later JSON record was missing from the rows before it.
      if (this.rows) acc.addMissing(this.rows);
      this.byName.set(name, acc);
      this.accumulators.push(acc);
    }
    return acc;
  }

  private header(columns: readonly string[]): void {
    const { names, warnings } = columnNames(columns);
    this.headerWarnings = warnings;
    this.warnings.push(...warnings);
    for (const name of names) this.column(name);
    const roles = this.options.performance;
    if (roles) {
      const label = columns.indexOf(roles.label);
      const prediction = columns.indexOf(roles.prediction);
      if (label >= 0 && prediction >= 0) this.perf = { state: newPerformance(), label, prediction };
    }
    if (this.csv) this.csv.fast = this.fastRows();
  }

  private pinKinds(): void {
    this.pinned = true;
    for (const acc of this.accumulators) acc.pin();
    if (this.csv) this.csv.fast = this.fastRows();
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
      this.example(line);
      return;
    }
    this.rows++;
    for (let c = 0; c < count; c++) {
      addCsvField(
        accs[c] as ColumnAccumulator,
        buf,
        starts[c] as number,
        ends[c] as number,
        flags[c] as number,
      );
    }
    const perf = this.perf;
    if (perf) {
      addPrediction(
        perf.state,
        parseNumber(buf, starts[perf.label] as number, ends[perf.label] as number),
        parseNumber(buf, starts[perf.prediction] as number, ends[perf.prediction] as number),
      );
    }
    if (!this.pinned && this.rows >= this.pinAfterRows) this.pinKinds();
  }

  private jsonRow(line: string): void {
    this.jsonLine++;
    if (!line.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      this.ragged++;
      this.example(this.jsonLine);
      return;
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      this.ragged++;
      this.example(this.jsonLine);
      return;
    }
    const record = value as Record<string, unknown>;
    for (const k of Object.keys(record)) if (!this.byName.has(k)) this.column(k);
    const roles = this.options.performance;
    if (roles && !this.perf && roles.label in record && roles.prediction in record) {
      this.perf = { state: newPerformance(), label: -1, prediction: -1 };
    }
    this.rows++;
    if (this.perf && roles)
      addPrediction(this.perf.state, Number(record[roles.label]), Number(record[roles.prediction]));
    for (const acc of this.accumulators) {
      const v = record[acc.name];
      if (v === null || v === undefined || v === '') acc.addMissing();
      else if (typeof v === 'number' && Number.isFinite(v)) acc.addNumber(v, String(v));
      else {
        const text = typeof v === 'object' ? JSON.stringify(v) : String(v).trim();
        const x = acc.wantsNumber && typeof v === 'string' && text !== '' ? Number(text) : Number.NaN;
        if (Number.isFinite(x)) acc.addNumber(x, text);
        else if (NULL_TOKENS.has(text)) acc.addMissing();
        else acc.addText(text);
      }
    }
    if (!this.pinned && this.rows >= this.pinAfterRows) this.pinKinds();
  }

  /** JSON Lines over bytes: whole lines are decoded (no split UTF-8), long ones skipped once. */
  private pushJson(chunk: Buffer, final: boolean): void {
    const json = this.json;
    if (json.stoppedAt !== undefined) return;
    let base = json.carry ? json.carryBase : json.received;
    json.received += chunk.length;
    let data = json.carry ? Buffer.concat([json.carry, chunk]) : chunk;
    json.carry = undefined;
    if (json.atStart && data.length) {
      if (data.length < 3 && data[0] === 0xef && !final) {
        json.carry = Buffer.from(data);
        json.carryBase = base;
        return;
      }
      if (data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf) {
        data = data.subarray(3);
        base += 3;
      }
      json.atStart = false;
    }
    let start = 0;
    if (json.skipping) {
      const lf = data.indexOf(LF);
      if (lf < 0) return;
      json.skipping = false;
      start = lf + 1;
    }
    const stopAt = json.stopAt - base;
    for (;;) {
      if (start >= stopAt) {
        json.stoppedAt = base + start;
        return;
      }
      const lf = data.indexOf(LF, start);
      if (lf < 0) break;
      if (lf - start > this.maxRowBytes) this.skipJson();
      else this.jsonRow(data.toString('utf8', start, lf));
      start = lf + 1;
    }
    if (start >= data.length) return;
    if (data.length - start > this.maxRowBytes) {
      this.skipJson();
      json.skipping = !final;
    } else if (final) this.jsonRow(data.toString('utf8', start));
    else {
      json.carry = Buffer.from(data.subarray(start));
      json.carryBase = base + start;
    }
  }

  private skipJson(): void {
    this.jsonLine++;
    this.oversized++;
    this.example(this.jsonLine);
  }

  /** The next chunk of the whole file. */
  push(chunk: Buffer): void {
    if (this.csv) this.csv.push(chunk);
    else this.pushJson(chunk, false);
  }

  /**
   * One block of whole rows (no header) of a file split for parallel profiling; `index` orders
   * the blocks in the file, so skipped rows can be reported by their row number in the file.
   */
  pushBlock(block: Buffer, index: number): void {
    this.block = index;
    if (this.options.format === 'csv') {
      const scanner = this.newScanner(true);
      scanner.push(block);
      scanner.end();
      this.blockLines.push([index, scanner.lines]);
    } else {
      this.jsonLine = 0;
      this.json.atStart = false;
      this.pushJson(block, true);
      this.json.skipping = false;
      this.blockLines.push([index, this.jsonLine]);
    }
  }

  /**
   * Makes this profiler one part of a file split into byte ranges: it is pushed the bytes from
   * a row start on, profiles every row that starts before `stopAt` bytes into them (finishing
   * the row under way there) and leaves the rest to the next part. `index` orders the parts, so
   * skipped rows get their row number in the file.
   */
  asPart(index: number, stopAt: number): void {
    this.partIndex = index;
    this.block = index;
    this.json.atStart = false;
    this.json.stopAt = stopAt;
    if (this.csv) this.csv.stopAt = stopAt;
  }

  /** A part's end: where the first row it left starts (bytes into what it was pushed). */
  get stoppedAt(): number | undefined {
    return this.csv ? this.csv.stoppedAt : this.json.stoppedAt;
  }

  /** Kinds settled so far (the columns with values), for profiling the rest in parallel. */
  kinds(): Record<string, ColumnKind> {
    const out: Record<string, ColumnKind> = {};
    for (const acc of this.accumulators) {
      acc.pin();
      if (acc.kind) out[acc.name] = acc.kind;
    }
    return out;
  }

  /** Column names in order (the header, or keys as first seen). */
  columnNames(): string[] {
    return this.accumulators.map((a) => a.name);
  }

  state(): ProfilerState {
    if (this.csv) this.csv.end();
    else {
      if (this.json.carry) this.pushJson(Buffer.alloc(0), true);
      this.json.carry = undefined;
      this.json.stoppedAt ??= this.json.received;
    }
    if (this.partIndex !== undefined && !this.blockLines.some(([b]) => b === this.partIndex)) {
      this.blockLines.push([this.partIndex, this.csv ? this.csv.lines : this.jsonLine]);
    }
    return {
      columns: this.accumulators.map((a) => a.state()),
      rows: this.rows,
      ragged: this.ragged,
      oversized: this.oversized,
      unterminated: this.unterminated,
      headerOversized: this.headerOversized,
      examples: this.examples,
      blockLines: this.blockLines,
      warnings: [...this.warnings],
      performance: this.perf?.state,
    };
  }

  finish(): Profile {
    return finishProfile(this.state(), this.options);
  }
}

/**
 * Merges the states of parts of one file (same options), one at a time in file order, so a
 * caller can fold each part in as soon as it is done.
 */
export class ProfilerStateMerger {
  private readonly byName = new Map<string, ColumnAccumulator>();
  /** Everything but the columns, warnings and performance, added up. */
  private readonly totals: Omit<ProfilerState, 'columns' | 'warnings' | 'performance'> = {
    rows: 0,
    ragged: 0,
    oversized: 0,
    unterminated: 0,
    headerOversized: false,
    examples: [],
    blockLines: [],
  };
  private readonly warnings = new Set<string>();
  private performance: PerformanceState | undefined;

  constructor(private readonly options: ProfileOptions) {}

  add(s: ProfilerState): void {
    for (const c of s.columns) {
      const acc = this.byName.get(c.name);
      if (acc) acc.merge(c);
      else {
        const fresh = ColumnAccumulator.fromState(
          c,
          this.options.categoricalCap ?? 200,
          this.options.sketchK ?? DEFAULT_SKETCH_K,
          (this.options.seed ?? 1) + this.byName.size,
        );
        // a column first seen here (JSON keys appear anywhere) was missing from the rows before
        if (this.totals.rows) fresh.addMissing(this.totals.rows);
        this.byName.set(c.name, fresh);
      }
    }
    if (s.rows) {
      const seen = new Set(s.columns.map((c) => c.name));
      for (const [name, acc] of this.byName) if (!seen.has(name)) acc.addMissing(s.rows);
    }
    const t = this.totals;
    t.rows += s.rows;
    t.ragged += s.ragged;
    t.oversized += s.oversized;
    t.unterminated += s.unterminated;
    t.headerOversized ||= s.headerOversized;
    t.examples = t.examples
      .concat(s.examples)
      .sort((a, b) => a.block - b.block || a.line - b.line)
      .slice(0, MAX_EXAMPLES);
    t.blockLines.push(...s.blockLines);
    for (const w of s.warnings) this.warnings.add(w);
    if (s.performance) {
      this.performance = this.performance ? mergePerformance(this.performance, s.performance) : s.performance;
    }
  }

  state(): ProfilerState {
    return {
      ...this.totals,
      columns: [...this.byName.values()].map((a) => a.state()),
      blockLines: [...this.totals.blockLines].sort((a, b) => a[0] - b[0]),
      warnings: [...this.warnings],
      performance: this.performance,
    };
  }
}

/** Merges the states of parts of one file (same options), in file order. */
export function mergeProfilerStates(
  states: readonly ProfilerState[],
  options: ProfileOptions,
): ProfilerState {
  const merger = new ProfilerStateMerger(options);
  for (const s of states) merger.add(s);
  return merger.state();
}

/**
 * The Profile of a (merged) state, with the checks and warnings: an empty file, a header with
 * no data, or no readable rows is a DataError; per-column problems are warnings. `lineOffset`
 * turns a block-relative row number into the file's (parallel profiling).
 */
export function finishProfile(
  state: ProfilerState,
  options: ProfileOptions,
  lineOffset: (block: number) => number = () => 0,
): Profile {
  const maxRowBytes = options.maxRowBytes ?? DEFAULT_MAX_ROW_BYTES;
  if (state.headerOversized && options.format === 'csv') {
    throw new DataError(
      `the first row is longer than ${maxRowBytes} bytes, so there is no usable header: is this really a CSV file?`,
    );
  }
  if (!state.columns.length) {
    throw new DataError(
      state.ragged || state.oversized
        ? `no readable rows: ${state.ragged} malformed and ${state.oversized} oversized lines were skipped`
        : 'the file is empty: no header row and no data',
    );
  }
  const examples = state.examples.map((e) => e.line + lineOffset(e.block));
  if (state.rows === 0) {
    const skipped = state.ragged + state.oversized + state.unterminated;
    throw new DataError(
      skipped
        ? `no readable rows: ${skipped} rows were skipped (${state.ragged} with the wrong number of fields, ${state.oversized} longer than ${maxRowBytes} bytes, ${state.unterminated} with an unterminated quote; e.g. line ${examples[0]})`
        : 'the file has a header but no data rows',
    );
  }
  const cap = options.categoricalCap ?? 200;
  const k = options.sketchK ?? DEFAULT_SKETCH_K;
  const warnings = [...state.warnings];
  const columns: Profile['columns'] = {};
  state.columns.forEach((c, i) => {
    const acc = ColumnAccumulator.fromState(c, cap, k, (options.seed ?? 1) + i);
    const p = acc.finish();
    columns[c.name] = p;
    if (p.kind === 'numeric' && p.invalid) {
      warnings.push(
        `column "${c.name}": ${p.invalid} non-numeric values (e.g. "${acc.firstInvalid}") counted as missing; if the column is categorical, pin it in monitoring.schema`,
      );
    }
    if (p.count === 0) warnings.push(`column "${c.name}" has no values`);
  });
  if (state.ragged)
    warnings.push(
      `${state.ragged} rows skipped: wrong number of fields or not a JSON object (e.g. line ${examples[0]})`,
    );
  if (state.oversized) warnings.push(`${state.oversized} rows skipped: longer than ${maxRowBytes} bytes`);
  if (state.unterminated) warnings.push('the last row was dropped: the file ends inside a quoted field');
  return {
    schema: 'mlcycle.profile/v1',
    rows: state.rows,
    columns,
    skipped: { ragged: state.ragged + state.unterminated, oversized: state.oversized, examples },
    warnings,
    ...(state.performance ? { performance: state.performance } : {}),
  };
}

/** Profiles a whole in-memory file (tests, small files). */
export function profileBytes(bytes: Buffer, options: ProfileOptions): Profile {
  const p = new Profiler(options);
  p.push(bytes);
  return p.finish();
}

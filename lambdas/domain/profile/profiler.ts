import { DataError } from '../errors.js';
import { ColumnAccumulator } from './column-accumulator.js';
import { FastCsvRows } from './csv-fast-rows.js';
import { addCsvField, NULL_TOKENS } from './csv-field.js';
import { columnNames } from './csv-header.js';
import { CsvScanner, parseNumber } from './csv-scanner.js';
import { finishProfile } from './finish-profile.js';
import { JsonLinesScanner } from './jsonl-scanner.js';
import { addPrediction, newPerformance, type PerformanceState } from './performance.js';
import type { ColumnKind, Profile } from './profile.js';
import {
  columnSettings,
  DEFAULT_MAX_ROW_BYTES,
  DEFAULT_PIN_AFTER_ROWS,
  type ProfileOptions,
  tooManyColumns,
} from './profile-options.js';
import { MAX_EXAMPLES, type ProfilerState, type RowRef } from './profiler-state.js';

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
  /** The reader of the file's format: CSV (a new scanner per block), or JSON Lines. */
  private csv: CsvScanner | undefined;
  private readonly jsonl: JsonLinesScanner | undefined;
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
    } else {
      this.jsonl = new JsonLinesScanner(
        { line: (text) => this.jsonRow(text), oversized: () => this.skipJson() },
        this.maxRowBytes,
      );
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
      const max = this.options.maxColumns ?? Number.POSITIVE_INFINITY;
      if (this.accumulators.length >= max) {
        throw new DataError(tooManyColumns(this.accumulators.length + 1, max, true));
      }
      acc = new ColumnAccumulator(
        name,
        // own keys only: no kind is pinned for a column named "constructor" unless it is
        this.options.kinds && Object.hasOwn(this.options.kinds, name) ? this.options.kinds[name] : undefined,
        ...columnSettings(this.options, this.accumulators.length),
      );
      // A column first seen in a later JSON record was missing from the rows before it.
      if (this.rows) acc.addMissing(this.rows);
      this.byName.set(name, acc);
      this.accumulators.push(acc);
    }
    return acc;
  }

  private header(columns: readonly string[]): void {
    const max = this.options.maxColumns ?? Number.POSITIVE_INFINITY;
    if (columns.length > max) throw new DataError(tooManyColumns(columns.length, max));
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
    if (
      roles &&
      !this.perf &&
      Object.hasOwn(record, roles.label) &&
      Object.hasOwn(record, roles.prediction)
    ) {
      this.perf = { state: newPerformance(), label: -1, prediction: -1 };
    }
    this.rows++;
    if (this.perf && roles)
      addPrediction(this.perf.state, Number(record[roles.label]), Number(record[roles.prediction]));
    for (const acc of this.accumulators) {
      // own keys only: a line without "constructor" does not have Object's
      const v = Object.hasOwn(record, acc.name) ? record[acc.name] : undefined;
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

  private skipJson(): void {
    this.jsonLine++;
    this.oversized++;
    this.example(this.jsonLine);
  }

  /** The next chunk of the whole file. */
  push(chunk: Buffer): void {
    if (this.csv) this.csv.push(chunk);
    else this.jsonl?.push(chunk);
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
      this.jsonl?.pushBlock(block);
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
    if (this.csv) this.csv.stopAt = stopAt;
    else if (this.jsonl) {
      this.jsonl.atStart = false;
      this.jsonl.stopAt = stopAt;
    }
  }

  /** A part's end: where the first row it left starts (bytes into what it was pushed). */
  get stoppedAt(): number | undefined {
    return this.csv ? this.csv.stoppedAt : this.jsonl?.stoppedAt;
  }

  /** Kinds settled so far (the columns with values), for profiling the rest in parallel. */
  kinds(): Record<string, ColumnKind> {
    const out: Record<string, ColumnKind> = Object.create(null);
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
    else this.jsonl?.end();
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

/** Profiles a whole in-memory file (tests, small files). */
export function profileBytes(bytes: Buffer, options: ProfileOptions): Profile {
  const p = new Profiler(options);
  p.push(bytes);
  return p.finish();
}

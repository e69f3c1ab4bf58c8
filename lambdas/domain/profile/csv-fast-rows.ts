/*
 * A hot loop, kept whole on purpose although it is over 400 lines: rows() is the profiler's
 * inner loop, run over every byte of the typical CSV file (docs/monitoring.md: about 400 MB/s
 * on its own). Finding the fields, parsing numbers and hashing categories happen in one pass
 * over the bytes, into per-batch arrays (plan, values, ids, raw fields) that the flush methods
 * below read back; the kernel and its flushes share that private layout, so splitting them
 * would expose it and add calls across modules in the loop that sets the throughput.
 */
import { CategoryTable, COUNTED, HASH_SEED, hashByte, MISSING } from './category-table.js';
import type { ColumnAccumulator } from './column-accumulator.js';
import { addCsvField, ESCAPED_QUOTES } from './csv-field.js';
import { parseNumber } from './csv-scanner.js';
import { addPrediction, type PerformanceState } from './performance.js';

/** Rows per batch at most: the cells of a batch are kept until it is handed to the columns. */
const ROWS = 2048;
/** Cells per batch at most (a file with thousands of columns gets shorter batches). */
const CELLS = 1 << 20;
/** Fields per batch handed over as bytes (see addRaw), at least. */
const RAW_CAP = 4096;

/* How the kernel reads a column. */
const NUMERIC = 1;
const CATEGORICAL = 2;
/** Kind still open: every field goes the general way. */
const GENERAL = 3;

/* Cells of a categorical column besides a table entry (≥ 0). */
const CELL_MISSING = -1;
const CELL_RAW = -2;

const POW10 = Float64Array.from({ length: 16 }, (_, i) => 10 ** i);

export interface FastRowsSetup {
  /** One per column, in header order, kinds settled (or open: GENERAL). */
  readonly accumulators: readonly ColumnAccumulator[];
  /** Rows over this many bytes are left to the general path, which skips them. */
  readonly maxRowBytes: number;
  readonly performance: { state: PerformanceState; label: number; prediction: number } | undefined;
  /** Called with the number of rows of each batch handed to the columns. */
  readonly onRows: (rows: number) => void;
}

/**
 * The fast path of the CSV profiler: a row at a time, one pass over the bytes that both finds
 * the fields and parses numbers (no per-field offsets, no strings), so typical data runs near
 * the speed of a bare float parse. It takes a row only when every field is plainly readable:
 * numbers in the usual decimal form, or text without quotes inside, on one line; any other row
 * (quoted newlines, ragged, blank, over-long, a stray quote) it hands back untouched to the
 * general scanner, which owns those rules. Fields it can delimit but not read (exponents,
 * spaces, null tokens, invalid text, quoted numbers) are handed to addCsvField as bytes, so
 * every value ends up exactly where the general path would have put it, in the same order:
 * test/unit/profile/fast-rows.test.ts checks profiles from both paths are identical.
 *
 * Cells of a row are written to per-batch arrays and only count once the row is complete, so a
 * row found bad halfway leaves nothing behind. A batch is handed to the columns (numbers to the
 * accumulators' batches, category counts as totals per distinct value) when it fills up and
 * before rows() returns, so rows the general path takes in between stay in file order.
 */
export class FastCsvRows {
  /** Rows taken by the last rows() call. */
  taken = 0;
  private readonly columns: number;
  private readonly plan: Uint8Array;
  private readonly values: Float64Array;
  private readonly ids: Int32Array;
  private readonly tables: (CategoryTable | undefined)[];
  /** Rows per batch: each column's cells are a run of this many in `values` and `ids`. */
  private readonly rowsPerBatch: number;
  private readonly rawRow: Int32Array;
  private readonly rawColumn: Int32Array;
  private readonly rawStart: Int32Array;
  private readonly rawEnd: Int32Array;
  private readonly rawFlags: Uint8Array;
  private readonly rawOrder: Int32Array;
  private readonly rawFirst: Int32Array;
  private rawCount = 0;
  private batchRows = 0;

  private constructor(private readonly setup: FastRowsSetup) {
    const accs = setup.accumulators;
    this.columns = accs.length;
    this.plan = Uint8Array.from(accs, (a) =>
      a.kind === 'numeric' ? NUMERIC : a.kind === 'categorical' ? CATEGORICAL : GENERAL,
    );
    this.rowsPerBatch = Math.max(16, Math.min(ROWS, Math.floor(CELLS / this.columns)));
    this.values = new Float64Array(this.columns * this.rowsPerBatch);
    this.ids = new Int32Array(this.columns * this.rowsPerBatch);
    // room for a whole batch's worth of odd fields per flush, and always for one full row
    const raw = Math.max(RAW_CAP, 2 * this.columns);
    this.rawRow = new Int32Array(raw);
    this.rawColumn = new Int32Array(raw);
    this.rawStart = new Int32Array(raw);
    this.rawEnd = new Int32Array(raw);
    this.rawFlags = new Uint8Array(raw);
    this.rawOrder = new Int32Array(raw);
    this.tables = accs.map((a) => (a.kind === 'categorical' ? new CategoryTable() : undefined));
    this.rawFirst = new Int32Array(this.columns + 1);
  }

  /** For the same columns started over (Profiler.restart): nothing pending, categories uncounted. */
  restart(): void {
    this.batchRows = 0;
    this.rawCount = 0;
    for (const table of this.tables) table?.restart();
  }

  /**
   * The fast path for these columns, or undefined where it does not apply: a single column
   * (a blank line and an empty value look alike there) or label/prediction columns that are
   * not numeric (the general path parses them per row).
   */
  static for(setup: FastRowsSetup): FastCsvRows | undefined {
    const accs = setup.accumulators;
    if (accs.length < 2) return undefined;
    const perf = setup.performance;
    if (perf && (accs[perf.label]?.kind !== 'numeric' || accs[perf.prediction]?.kind !== 'numeric')) {
      return undefined;
    }
    return new FastCsvRows(setup);
  }

  /**
   * Profiles the rows of buf from `from` while they are plainly readable, up to `limit`: every
   * row starting before it ends with a newline inside buf (limit ≤ just past the last
   * newline). Returns where it stopped: the start of a row for the general path, or the first
   * row start at or after `limit`.
   */
  rows(buf: Buffer, from: number, limit: number): number {
    const maxRowBytes = this.setup.maxRowBytes;
    const rawLimit = this.rawRow.length - this.columns;
    let pos = from;
    let taken = 0;
    while (pos < limit) {
      const rawMark = this.rawCount;
      const next = this.row(buf, pos, this.batchRows);
      if (next < 0 || next - pos > maxRowBytes) {
        this.rawCount = rawMark;
        break;
      }
      pos = next;
      taken++;
      if (++this.batchRows === this.rowsPerBatch || this.rawCount > rawLimit) this.flush(buf);
    }
    this.flush(buf);
    this.taken = taken;
    return pos;
  }

  /**
   * Reads one row at `pos` into batch row r; returns where the next row starts, or -1 when the
   * row is not plainly readable (the caller then forgets the raw fields it noted). A function
   * per row keeps this, the hot code, out of on-stack replacement: V8 compiles it whole, after
   * it has seen every path a row takes.
   */
  private row(buf: Buffer, pos: number, r: number): number {
    // Constants as locals: a bundler (esbuild, for the Lambda and the worker thread) turns
    // module-level consts into vars, which V8 would reload and recheck at every use below.
    const QUOTE = 0x22;
    const COMMA = 0x2c;
    const LF = 0x0a;
    const CR = 0x0d;
    const MINUS = 0x2d;
    const DOT = 0x2e;
    const ZERO = 0x30;
    const stride = this.rowsPerBatch;
    const numeric = NUMERIC;
    const categorical = CATEGORICAL;
    const pow10 = POW10;
    const n = this.columns;
    const last = n - 1;
    const plan = this.plan;
    const values = this.values;
    const ids = this.ids;
    let cell = r;
    for (let c = 0; c < n; c++, cell += stride) {
      const sep = c === last ? LF : COMMA;
      let b = buf[pos] as number;
      const kind = plan[c];
      if (kind === numeric && b !== QUOTE) {
        const start = pos;
        let negative = false;
        if (b === MINUS) {
          negative = true;
          b = buf[++pos] as number;
        }
        // integer and fraction digits in 32-bit integers (up to 9 each), joined exactly below
        let whole = 0;
        const wholeStart = pos;
        let d = b - ZERO;
        while (d >>> 0 < 10) {
          whole = (whole * 10 + d) | 0;
          b = buf[++pos] as number;
          d = b - ZERO;
        }
        const wholeDigits = pos - wholeStart;
        let fraction = 0;
        let scale = 0;
        if (b === DOT) {
          b = buf[++pos] as number;
          d = b - ZERO;
          const fractionStart = pos;
          while (d >>> 0 < 10) {
            fraction = (fraction * 10 + d) | 0;
            b = buf[++pos] as number;
            d = b - ZERO;
          }
          scale = pos - fractionStart;
        }
        const digits = wholeDigits + scale;
        const plain = b === sep || (b === CR && c === last && buf[pos + 1] === LF);
        if (plain && digits > 0 && digits <= 15 && wholeDigits <= 9 && scale <= 9) {
          // the exact mantissa (< 10^15) over an exact power of ten: one correctly rounded
          // division, as parseNumber does
          const x = scale ? (whole * (pow10[scale] as number) + fraction) / (pow10[scale] as number) : whole;
          values[cell] = negative ? -x : x;
        } else if (plain && pos === start) {
          values[cell] = Number.NaN; // empty: missing
        } else {
          // exponent, spaces, a sign alone, long digits, text: parseNumber decides, as generally
          while (b !== COMMA && b !== LF && b !== CR && b !== QUOTE) b = buf[++pos] as number;
          if (b === QUOTE || !(b === sep || (b === CR && c === last && buf[pos + 1] === LF))) return -1;
          const x = parseNumber(buf, start, pos);
          if (Number.isFinite(x)) values[cell] = x;
          else {
            values[cell] = Number.NaN;
            this.addRaw(r, c, start, pos, 0);
          }
        }
        pos += b === CR ? 2 : 1;
        continue;
      }
      let start: number;
      let end: number;
      let flags = 0;
      let h = HASH_SEED;
      if (b === QUOTE) {
        start = ++pos;
        for (;;) {
          b = buf[pos] as number;
          if (b === QUOTE) {
            if (buf[pos + 1] !== QUOTE) break;
            flags = ESCAPED_QUOTES;
            pos += 2;
            continue;
          }
          // a newline inside quotes: the row goes on past this line, the general path's job
          if (b === LF) return -1;
          h = hashByte(h, b);
          pos++;
        }
        end = pos;
        b = buf[++pos] as number;
      } else {
        start = pos;
        while (b !== COMMA && b !== LF && b !== CR && b !== QUOTE) {
          h = hashByte(h, b);
          b = buf[++pos] as number;
        }
        end = pos;
      }
      if (!(b === sep || (b === CR && c === last && buf[pos + 1] === LF))) return -1;
      pos += b === CR ? 2 : 1;
      if (kind === categorical && !flags) {
        if (end === start) ids[cell] = CELL_MISSING;
        else ids[cell] = this.category(c, buf, start, end, h, r);
      } else {
        // a quoted number, doubled quotes, or a column whose kind is open
        if (kind === numeric) values[cell] = Number.NaN;
        else ids[cell] = CELL_RAW;
        this.addRaw(r, c, start, end, flags);
      }
    }
    return pos;
  }

  /** The cell of a category: its table entry, or raw bytes when the table is full. */
  private category(c: number, buf: Buffer, start: number, end: number, h: number, r: number): number {
    const table = this.tables[c] as CategoryTable;
    let e = table.find(buf, start, end, h);
    if (e < 0) e = table.add(buf, start, end, h);
    if (e >= 0) return e;
    this.addRaw(r, c, start, end, 0);
    return CELL_RAW;
  }

  /** A field handed to addCsvField at flush: bytes buf[start, end) of row r, column c. */
  private addRaw(r: number, c: number, start: number, end: number, flags: number): void {
    const i = this.rawCount++;
    this.rawRow[i] = r;
    this.rawColumn[i] = c;
    this.rawStart[i] = start;
    this.rawEnd[i] = end;
    this.rawFlags[i] = flags;
  }

  /** Groups the raw fields by column (stable: row order within a column). */
  private sortRaw(): void {
    const first = this.rawFirst;
    first.fill(0);
    for (let i = 0; i < this.rawCount; i++) {
      const c = this.rawColumn[i] as number;
      first[c + 1] = (first[c + 1] as number) + 1;
    }
    for (let c = 0; c < this.columns; c++) first[c + 1] = (first[c + 1] as number) + (first[c] as number);
    const next = Int32Array.from(first);
    for (let i = 0; i < this.rawCount; i++) {
      const c = this.rawColumn[i] as number;
      const at = next[c] as number;
      next[c] = at + 1;
      this.rawOrder[at] = i;
    }
  }

  /** Hands the batch's rows to the columns, in row order per column. */
  private flush(buf: Buffer): void {
    const rowsInBatch = this.batchRows;
    if (!rowsInBatch) return;
    if (this.rawCount) this.sortRaw();
    else this.rawFirst.fill(0);
    // first: the columns' loop below packs each numeric column's cells in place
    const perf = this.setup.performance;
    if (perf) this.flushPerformance(buf, perf);
    const accs = this.setup.accumulators;
    for (let c = 0; c < this.columns; c++) {
      const acc = accs[c] as ColumnAccumulator;
      const kind = this.plan[c];
      let raw = this.rawFirst[c] as number;
      const rawEnd = this.rawFirst[c + 1] as number;
      if (kind === GENERAL) {
        for (; raw < rawEnd; raw++) this.addRawField(acc, buf, this.rawOrder[raw] as number);
        continue;
      }
      const base = c * this.rowsPerBatch;
      let nextRaw = raw < rawEnd ? (this.rawRow[this.rawOrder[raw] as number] as number) : -1;
      let missing = 0;
      if (kind === NUMERIC) {
        // numbers are packed to the front of the column's cells and handed over in runs; a raw
        // field (which may be a number too, e.g. quoted) goes in between, in its place
        const values = this.values;
        let run = base;
        let packed = base;
        for (let r = 0; r < rowsInBatch; r++) {
          const x = values[base + r] as number;
          // biome-ignore lint/suspicious/noSelfCompare: the cheapest NaN test on the hot path
          if (x === x) values[packed++] = x;
          else if (r === nextRaw) {
            if (packed > run) acc.addNumbers(values, run, packed - run);
            run = packed;
            this.addRawField(acc, buf, this.rawOrder[raw++] as number);
            nextRaw = raw < rawEnd ? (this.rawRow[this.rawOrder[raw] as number] as number) : -1;
          } else missing++;
        }
        if (packed > run) acc.addNumbers(values, run, packed - run);
      } else {
        const table = this.tables[c] as CategoryTable;
        const { pending, status, texts } = table;
        const counted = COUNTED;
        const missingText = MISSING;
        const ids = this.ids;
        for (let r = 0; r < rowsInBatch; r++) {
          const id = ids[base + r] as number;
          if (id >= 0) {
            const s = status[id] as number;
            if (s === counted) pending[id] = (pending[id] as number) + 1;
            else if (s === missingText) missing++;
            else {
              // the first occurrence in its place: it decides named or "other", as one at a time
              acc.addText(texts[id] as string);
              status[id] = counted;
            }
          } else if (id === CELL_MISSING) missing++;
          else {
            this.addRawField(acc, buf, this.rawOrder[raw++] as number);
          }
        }
        for (let id = 0; id < texts.length; id++) {
          const times = pending[id] as number;
          if (times) {
            acc.addTexts(texts[id] as string, times);
            pending[id] = 0;
          }
        }
      }
      if (missing) acc.addMissing(missing);
    }
    this.setup.onRows(rowsInBatch);
    this.batchRows = 0;
    this.rawCount = 0;
  }

  private addRawField(acc: ColumnAccumulator, buf: Buffer, i: number): void {
    addCsvField(acc, buf, this.rawStart[i] as number, this.rawEnd[i] as number, this.rawFlags[i] as number);
  }

  /** Labels against predictions, per row, as parseNumber reads the two fields. */
  private flushPerformance(
    buf: Buffer,
    perf: { state: PerformanceState; label: number; prediction: number },
  ): void {
    const cursor = (c: number) => {
      let raw = this.rawFirst[c] as number;
      const end = this.rawFirst[c + 1] as number;
      const base = c * this.rowsPerBatch;
      return (r: number): number => {
        const x = this.values[base + r] as number;
        // biome-ignore lint/suspicious/noSelfCompare: NaN marks an empty or a raw field
        if (x === x) return x;
        const i = raw < end ? (this.rawOrder[raw] as number) : -1;
        if (i < 0 || this.rawRow[i] !== r) return Number.NaN;
        raw++;
        return parseNumber(buf, this.rawStart[i] as number, this.rawEnd[i] as number);
      };
    };
    const label = cursor(perf.label);
    const prediction = cursor(perf.prediction);
    for (let r = 0; r < this.batchRows; r++) addPrediction(perf.state, label(r), prediction(r));
  }
}

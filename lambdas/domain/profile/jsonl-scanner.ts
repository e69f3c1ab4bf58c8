import { utf8BomLength } from './utf8-bom.js';

const LF = 0x0a;

export interface LineSink {
  /** A whole line, decoded (no UTF-8 character split), without its newline; blank ones too. */
  line(text: string): void;
  /** A line longer than maxRowBytes: skipped once, never buffered or decoded. */
  oversized(): void;
}

/**
 * JSON Lines over bytes, as CsvScanner reads CSV: lines cut at a chunk's end are carried to the
 * next chunk, a UTF-8 BOM at the start is dropped, an oversized line is skipped, and a part of a
 * file split by byte ranges leaves every line that starts at or after `stopAt` to the next part.
 */
export class JsonLinesScanner {
  private carry: Buffer | undefined;
  /** Stream offset of the carry's first byte. */
  private carryBase = 0;
  /** Bytes pushed so far. */
  private received = 0;
  /** Inside an oversized line, until its newline. */
  private skipping = false;
  /** Parts and blocks of a file do not start it: there is no BOM to look for. */
  atStart = true;
  stopAt = Number.POSITIVE_INFINITY;
  /** Where the first line left alone starts (stream offset); the stream's length if none was. */
  stoppedAt: number | undefined;

  constructor(
    private readonly sink: LineSink,
    private readonly maxRowBytes: number,
  ) {}

  /** The next chunk; `final`: nothing follows, so a last line without a newline is whole. */
  push(chunk: Buffer, final = false): void {
    if (this.stoppedAt !== undefined) return;
    let base = this.carry ? this.carryBase : this.received;
    this.received += chunk.length;
    let data = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = undefined;
    if (this.atStart && data.length) {
      const bom = utf8BomLength(data);
      if (bom < 0 && !final) {
        this.carry = Buffer.from(data);
        this.carryBase = base;
        return;
      }
      if (bom > 0) {
        data = data.subarray(bom);
        base += bom;
      }
      this.atStart = false;
    }
    let start = 0;
    if (this.skipping) {
      const lf = data.indexOf(LF);
      if (lf < 0) return;
      this.skipping = false;
      start = lf + 1;
    }
    const stopAt = this.stopAt - base;
    for (;;) {
      if (start >= stopAt) {
        this.stoppedAt = base + start;
        return;
      }
      const lf = data.indexOf(LF, start);
      if (lf < 0) break;
      if (lf - start > this.maxRowBytes) this.sink.oversized();
      else this.sink.line(data.toString('utf8', start, lf));
      start = lf + 1;
    }
    if (start >= data.length) return;
    if (data.length - start > this.maxRowBytes) {
      this.sink.oversized();
      this.skipping = !final;
    } else if (final) this.sink.line(data.toString('utf8', start));
    else {
      this.carry = Buffer.from(data.subarray(start));
      this.carryBase = base + start;
    }
  }

  /** One block of whole lines of a file split for parallel profiling (no BOM, nothing carried). */
  pushBlock(block: Buffer): void {
    this.atStart = false;
    this.push(block, true);
    this.skipping = false;
  }

  /** The end of the stream: a carried last line is read. */
  end(): void {
    if (this.carry) this.push(Buffer.alloc(0), true);
    this.carry = undefined;
    this.stoppedAt ??= this.received;
  }
}

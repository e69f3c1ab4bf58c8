import { addCsvField, type FieldSink } from './csv-field.js';
import { CsvScanner } from './csv-scanner.js';
import type { ColumnKind } from './profile.js';
import { DEFAULT_MAX_ROW_BYTES } from './profile-options.js';

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
  const kinds: Record<string, ColumnKind> = Object.create(null);
  names.forEach((name, c) => {
    const { numbers, texts } = seen[c] as { numbers: number; texts: number };
    if (texts) kinds[name] = 'categorical';
    else if (numbers) kinds[name] = 'numeric';
  });
  return kinds;
}

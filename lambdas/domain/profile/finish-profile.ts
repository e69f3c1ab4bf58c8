import { DataError } from '../errors.js';
import { ColumnAccumulator } from './column-accumulator.js';
import type { Profile } from './profile.js';
import { columnSettings, DEFAULT_MAX_ROW_BYTES, type ProfileOptions } from './profile-options.js';
import type { ProfilerState } from './profiler-state.js';

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
  const warnings = [...state.warnings];
  // null prototype: a column named __proto__ or constructor is a column like any other
  const columns: Profile['columns'] = Object.create(null);
  state.columns.forEach((c, i) => {
    const acc = ColumnAccumulator.fromState(c, ...columnSettings(options, i));
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

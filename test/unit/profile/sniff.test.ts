import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sniffCsvKinds } from '../../../lambdas/domain/profile/csv-header.js';
import { Profiler } from '../../../lambdas/domain/profile/profiler.js';
import { csv } from '../../support/csv-arbitraries.js';

describe('sniffCsvKinds: the kinds a profiler would settle on, without profiling', () => {
  it('agrees with Profiler.kinds() on any rows', () => {
    const header = ['x', 'y', 'region', 'label', 'x'];
    fc.assert(
      fc.property(csv, (c) => {
        const rows = Buffer.from(`${c.lines.join(c.crlf ? '\r\n' : '\n')}\n`);
        const profiler = new Profiler(
          { format: 'csv', maxRowBytes: 200, pinAfterRows: Number.POSITIVE_INFINITY },
          header,
        );
        profiler.pushBlock(rows, 0);
        expect(sniffCsvKinds(rows, header, 200)).toEqual(profiler.kinds());
      }),
      { seed: 99, numRuns: 300 },
    );
  });

  it('numbers are numeric, one text makes a column categorical, all missing leaves it open', () => {
    const kinds = sniffCsvKinds(Buffer.from('1,a,,NA\n2.5,3,,\n" 7 ",b,,null\n1,2\n'), ['n', 't', 'e', 'm']);
    expect(kinds).toEqual({ n: 'numeric', t: 'categorical' });
  });
});

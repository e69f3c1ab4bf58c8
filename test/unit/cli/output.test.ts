import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createOutput, renderTable } from '../../../bin/cli/output.js';
import { boundText, neutralizeInline, neutralizeLines } from '../../../lambdas/domain/text.js';
import { actingCharacters } from '../../support/control-chars.js';

const ESC = '\u001b';

const ATTACKS = [
  `${ESC}[2J${ESC}[H`, // clear the screen
  `${ESC}]0;pwned\u0007`, // retitle the window
  'fine\rapproved by ml-lead', // CR: overwrite what was printed
  'a\u009b31mred', // C1 CSI
  'evil\u202Egnp.exe', // right-to-left override
  'x\u2066y\u2069\u200F', // isolates and marks
  'del\u007f',
];

function capture(json: boolean) {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  err.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return { output: createOutput(json, out, err), text: () => ({ stdout, stderr }) };
}

describe('neutralising text for people', () => {
  it('inline: line breaks and tabs become spaces, every other control character U+FFFD', () => {
    expect(neutralizeInline('a\r\nb\nc\rd\te\u2028f')).toBe('a b c d e f');
    expect(neutralizeInline(`${ESC}[31mred`)).toBe('\uFFFD[31mred');
    expect(neutralizeInline('abc\u202Efdp.exe')).toBe('abc\uFFFDfdp.exe');
    expect(neutralizeInline('naïve — ✓ 日本 👩‍💻')).toBe('naïve — ✓ 日本 👩‍💻');
  });

  it('lines: keep line structure, a lone CR ends a line instead of overwriting it', () => {
    expect(neutralizeLines('one\r\ntwo\rthree\n\tfour')).toBe('one\ntwo\nthree\n\tfour');
    expect(neutralizeLines(`x${ESC}[1Ay`)).toBe('x\uFFFD[1Ay');
  });

  it('no string survives either with a character a terminal acts on', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(actingCharacters(neutralizeInline(s))).toEqual([]);
        expect(neutralizeInline(s)).not.toMatch(/[\n\t]/);
        expect(actingCharacters(neutralizeLines(s))).toEqual([]);
      }),
    );
  });

  it('bounds length without cutting a surrogate pair', () => {
    expect(boundText('abcdef', 6)).toBe('abcdef');
    expect(boundText('abcdefg', 6)).toBe('abcde…');
    expect(boundText('😀😀😀', 2)).toBe('😀…');
  });
});

describe('CLI output', () => {
  it('tables show control characters in cells and headers neutralised, and stay aligned', () => {
    const rows = ATTACKS.map((reason, i) => ({ seq: i, reason, [`col${ESC}[8m`]: 'x' }));
    const table = renderTable(rows);
    expect(actingCharacters(table)).toEqual([]);
    const lines = table.split('\n');
    expect(lines).toHaveLength(ATTACKS.length + 2);
    // every row is as wide as the header rule: no cell moved the cursor or broke the line
    const rule = lines[1] ?? '';
    expect(rule).toMatch(/^[- ]+$/);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(rule.length);
    expect(lines[0]).toContain('COL\uFFFD[8M');
    expect(renderTable([{ reason: 'line one\nline two' }]).split('\n')).toEqual([
      'REASON',
      '-----------------',
      'line one line two',
    ]);
  });

  it('human results: a quoted value stays on one line, and nothing acts', () => {
    const { output, text } = capture(false);
    const value = { reason: 'ok\nchurn production: 1.0.0 → 9.9.9 (ledger #9)', note: `${ESC}[2J` };
    output.result(value, () => `reason: ${value.reason}\nnote: ${value.note}\nnew\rline`);
    expect(text().stdout).toBe(
      'reason: ok churn production: 1.0.0 → 9.9.9 (ledger #9)\nnote: \uFFFD[2J\nnew\nline\n',
    );
  });

  it('progress lines are one line each and neutralised, on stdout or (with --json) stderr', () => {
    for (const json of [false, true]) {
      const { output, text } = capture(json);
      output.info(`feature sessions\n${ESC}[31mdrifted\r`);
      const printed = json ? text().stderr : text().stdout;
      expect(printed).toBe('feature sessions \uFFFD[31mdrifted \n');
    }
  });

  it('JSON stays exact: the same values once parsed, with no raw control character printed', () => {
    const { output, text } = capture(true);
    const rows = ATTACKS.map((reason) => ({ reason }));
    output.table(rows);
    output.result({ reasons: ATTACKS }, () => 'unused');
    const [tableLine, resultLine] = text().stdout.trimEnd().split('\n');
    expect(actingCharacters(text().stdout)).toEqual([]);
    expect(JSON.parse(tableLine ?? '')).toEqual(rows);
    expect(JSON.parse(resultLine ?? '')).toEqual({ reasons: ATTACKS });
  });
});

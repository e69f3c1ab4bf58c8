const BIDI = new Set([
  0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069,
]);

/**
 * The characters of `text` that a terminal or a mail reader acts on instead of showing: C0 (but
 * LF and TAB), DEL, C1, the bidi controls and the Unicode line/paragraph separators. Written
 * out by code point rather than as the sanitiser's regex, so a test does not share its bug.
 */
export function actingCharacters(text: string): string[] {
  return Array.from(text).filter((c) => {
    const cp = c.codePointAt(0) ?? 0;
    return (
      (cp < 0x20 && c !== '\n' && c !== '\t') ||
      (cp >= 0x7f && cp <= 0x9f) ||
      BIDI.has(cp) ||
      cp === 0x2028 ||
      cp === 0x2029
    );
  });
}

/**
 * Text that came from people or data (comments, reasons, identities, names derived from CSV
 * columns, S3 keys) made safe to show where control characters act rather than show: a terminal
 * (ESC sequences recolour, move the cursor or retitle the window; CR overwrites the line; the C1
 * byte CSI starts a sequence on some terminals) or an email (bidi overrides reorder what the
 * reader sees; line breaks fake lines of our own).
 *
 * Line breaks become a space (one line) or a newline (multi-line text); every other control
 * character — C0, DEL, C1, the bidi embeddings, overrides, isolates and marks — becomes U+FFFD,
 * so the reader sees that something was there without it acting.
 */

/** CRLF, CR, LF, VT, FF, NEL and the Unicode line and paragraph separators. */
const LINE_BREAK = /\r\n|[\n\r\v\f\u0085\u2028\u2029]/g;
/** Cc (C0, DEL, C1) and the bidi formatting characters. */
const CONTROL = /[\p{Cc}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/gu;
const ANY_UNSAFE = /[\p{Cc}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]/u;

export const REPLACEMENT = '\uFFFD';

/** Whether `text` holds a character that neutralizeInline or neutralizeLines would change. */
export function hasControlCharacters(text: string): boolean {
  return ANY_UNSAFE.test(text);
}

/** One line: line breaks and tabs become spaces, other control characters U+FFFD. */
export function neutralizeInline(text: string): string {
  return text.replace(LINE_BREAK, ' ').replace(/\t/g, ' ').replace(CONTROL, REPLACEMENT);
}

/**
 * Several lines: every kind of line break becomes "\n" (a lone CR cannot overwrite the line it
 * ends), tabs stay, other control characters become U+FFFD.
 */
export function neutralizeLines(text: string): string {
  return text.replace(LINE_BREAK, '\n').replace(CONTROL, (c) => (c === '\n' || c === '\t' ? c : REPLACEMENT));
}

/** At most `max` characters (code points, so no surrogate pair is cut), "…" marking a cut. */
export function boundText(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

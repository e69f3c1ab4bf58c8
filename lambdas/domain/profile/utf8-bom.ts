/**
 * How many bytes a UTF-8 byte-order mark takes at the start of `data`: 3, 0 when there is none,
 * or -1 when `data` is too short to tell (it starts like one: wait for more bytes, or, at the
 * end of the input, take it as none). Both readers drop a BOM at the start of a file.
 */
export function utf8BomLength(data: Buffer): number {
  if (data[0] !== 0xef) return 0;
  if (data.length < 3) return -1;
  return data[1] === 0xbb && data[2] === 0xbf ? 3 : 0;
}

/**
 * Character classes as the Linux kernel sees them (lib/ctype.c, include/linux/ctype.h).
 *
 * The kernel's table is ISO 8859-1, not the C locale: 0xc0-0xde are upper case, 0xdf-0xff
 * lower case (0xd7 and 0xf7 are punctuation), 0xa0-0xbf are space/punctuation, and
 * 0x80-0x9f belong to no class at all (they are *not* control characters). The line
 * discipline's echo, erase and case mapping follow this table, so the model must too.
 */

const CNTRL = 1;
const UPPER = 2;
const LOWER = 4;
const DIGIT = 8;

const CLASSES: Uint8Array = buildClasses();

function buildClasses(): Uint8Array {
  const classes = new Uint8Array(256);
  for (let c = 0; c < 256; c++) {
    if (c < 0x20 || c === 0x7f) classes[c] = CNTRL;
    else if (c >= 0x30 && c <= 0x39) classes[c] = DIGIT;
    else if (c >= 0x41 && c <= 0x5a) classes[c] = UPPER;
    else if (c >= 0x61 && c <= 0x7a) classes[c] = LOWER;
    else if (c >= 0xc0 && c <= 0xde && c !== 0xd7) classes[c] = UPPER;
    else if (c >= 0xdf && c !== 0xf7) classes[c] = LOWER;
  }
  return classes;
}

export function isCntrl(c: number): boolean {
  return (CLASSES[c]! & CNTRL) !== 0;
}

export function isAlnum(c: number): boolean {
  return (CLASSES[c]! & (UPPER | LOWER | DIGIT)) !== 0;
}

/** The kernel subtracts 0x20 from anything its table calls lower case (so 0xdf becomes 0xbf). */
export function toUpper(c: number): number {
  return (CLASSES[c]! & LOWER) !== 0 ? c - 0x20 : c;
}

export function toLower(c: number): number {
  return (CLASSES[c]! & UPPER) !== 0 ? c + 0x20 : c;
}

/** A UTF-8 continuation byte (10xxxxxx). */
export function isUtf8Continuation(c: number): boolean {
  return (c & 0xc0) === 0x80;
}

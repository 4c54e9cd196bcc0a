/**
 * Conversion of @xterm/headless cells into the rows a painter draws: per cell a packed
 * attribute and the text. The packing is blessed's, so the full-screen terminal copies
 * cells into its screen as they are: blessed keeps the screen as rows of `[attr, ch]`
 * pairs; `attr` packs
 * `flags << 18 | fg << 9 | bg` where fg/bg are palette indexes (0-255) or 0x1ff
 * for the terminal's default, and flags are bold 1, underline 2, blink 4,
 * inverse 8, invisible 16. Those are all the attributes blessed can draw: dim,
 * italic, strikethrough and overline have no bit and are dropped.
 */
import type { IBufferCell, IBufferLine } from '@xterm/headless';
import { nearestPaletteIndex } from './palette.js';

export const DEFAULT_COLOR = 0x1ff;
export const DEFAULT_ATTR = (DEFAULT_COLOR << 9) | DEFAULT_COLOR;

export const Flag = { bold: 1, underline: 2, blink: 4, inverse: 8, invisible: 16 } as const;

export function packAttr(flags: number, fg: number, bg: number): number {
  return (flags << 18) | (fg << 9) | bg;
}

export function unpackAttr(attr: number): { flags: number; fg: number; bg: number } {
  return { flags: attr >> 18, fg: (attr >> 9) & 0x1ff, bg: attr & 0x1ff };
}

function fgOf(cell: IBufferCell): number {
  if (cell.isFgDefault()) return DEFAULT_COLOR;
  if (cell.isFgRGB()) return nearestPaletteIndex(cell.getFgColor());
  return cell.getFgColor();
}

function bgOf(cell: IBufferCell): number {
  if (cell.isBgDefault()) return DEFAULT_COLOR;
  if (cell.isBgRGB()) return nearestPaletteIndex(cell.getBgColor());
  return cell.getBgColor();
}

export function cellAttr(cell: IBufferCell): number {
  if (cell.isAttributeDefault()) return DEFAULT_ATTR;
  const flags =
    (cell.isBold() ? Flag.bold : 0) |
    (cell.isUnderline() ? Flag.underline : 0) |
    (cell.isBlink() ? Flag.blink : 0) |
    (cell.isInverse() ? Flag.inverse : 0) |
    (cell.isInvisible() ? Flag.invisible : 0);
  return packAttr(flags, fgOf(cell), bgOf(cell));
}

/** The text blessed should draw for a cell: never-written cells are blanks. */
export function cellText(cell: IBufferCell): string {
  if (cell.getWidth() === 0) return '';
  return cell.getChars() || ' ';
}

/** One row as a painter gets it: a packed attribute and the text of each cell. */
export interface RowCells {
  attrs: Int32Array;
  text: string[];
}

/** `line` (or blanks when the buffer has no such line) as `cols` cells. */
export function readRow(line: IBufferLine | undefined, cols: number, scratch: IBufferCell): RowCells {
  const attrs = new Int32Array(cols).fill(DEFAULT_ATTR);
  const text = new Array<string>(cols).fill(' ');
  for (let x = 0; line && x < cols; x++) {
    if (!line.getCell(x, scratch)) break;
    attrs[x] = cellAttr(scratch);
    text[x] = cellText(scratch);
  }
  return { attrs, text };
}

/** A copy of `cells` with `text` (printable ASCII: a cell a character) printed from column `x` in the default attributes. */
export function printedOn(cells: RowCells, x: number, text: string): RowCells {
  const attrs = cells.attrs.slice();
  const chars = cells.text.slice();
  for (let i = 0; i < text.length; i++) {
    attrs[x + i] = DEFAULT_ATTR;
    chars[x + i] = text[i]!;
  }
  return { attrs, text: chars };
}

export function sameRow(a: RowCells, b: RowCells): boolean {
  if (a.text.length !== b.text.length) return false;
  for (let x = 0; x < a.text.length; x++) if (a.attrs[x] !== b.attrs[x] || a.text[x] !== b.text[x]) return false;
  return true;
}

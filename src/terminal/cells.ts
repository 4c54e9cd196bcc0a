/**
 * Conversion of @xterm/headless cells into blessed's screen cells.
 *
 * blessed keeps the screen as rows of `[attr, ch]` pairs; `attr` packs
 * `flags << 18 | fg << 9 | bg` where fg/bg are palette indexes (0-255) or 0x1ff
 * for the terminal's default, and flags are bold 1, underline 2, blink 4,
 * inverse 8, invisible 16. Those are all the attributes blessed can draw: dim,
 * italic, strikethrough and overline have no bit and are dropped.
 */
import type { IBufferCell, IBufferLine } from '@xterm/headless';
import { nearestPaletteIndex } from '../recorder/palette.js';

export const DEFAULT_COLOR = 0x1ff;
export const DEFAULT_ATTR = (DEFAULT_COLOR << 9) | DEFAULT_COLOR;

export const Flag = { bold: 1, underline: 2, blink: 4, inverse: 8, invisible: 16 } as const;

/** One blessed screen cell: attribute and the text drawn there ('' after a wide char). */
export type BlessedCell = [number, string];

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

/**
 * Writes `line` (or blanks when the buffer has no such line) into `row`, the
 * cells `[left, left + cols)` of one blessed screen row, and tells whether any
 * cell changed. Comparing against the row itself, not a private copy, means
 * cells another widget drew over (a closed overlay) are repainted too.
 */
export function paintRow(
  row: BlessedCell[],
  left: number,
  cols: number,
  line: IBufferLine | undefined,
  scratch: IBufferCell,
): boolean {
  let changed = false;
  for (let x = 0; x < cols; x++) {
    let attr = DEFAULT_ATTR;
    let text = ' ';
    if (line && line.getCell(x, scratch)) {
      attr = cellAttr(scratch);
      text = cellText(scratch);
    }
    const target = row[left + x];
    if (target === undefined) break;
    if (target[0] !== attr || target[1] !== text) {
      target[0] = attr;
      target[1] = text;
      changed = true;
    }
  }
  return changed;
}

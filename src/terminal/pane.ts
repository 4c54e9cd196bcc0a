/**
 * The terminal pane on the main thread: the rows the screen worker sent last (each
 * frame carries the rows that changed, at most one frame per 16 ms; src/screen/worker.ts)
 * and the code that copies them into blessed's screen cells. blessed then writes only
 * the cells that differ from what the outer terminal already shows. Scrolling the view
 * through the history is the worker's: the pane asks, the next frame shows it. Plain
 * text whose effect is certain comes ahead of its frame (src/screen/print-ahead.ts).
 */
import { EventEmitter } from 'node:events';
import { DEFAULT_ATTR, printedOn, sameRow, type RowCells } from '../screen/cells.js';
import type { Frame } from '../screen/model.js';
import { cursorAfter, type Ahead } from '../screen/print-ahead.js';

/** Where the frames come from: the session's Emulator (a ScreenModel in-process in tests). */
export interface FrameSource {
  readonly cols: number;
  readonly rows: number;
  on(event: 'frame', listener: (frame: Frame) => void): unknown;
  on(event: 'ahead', listener: (ahead: Ahead) => void): unknown;
  scrollBy(lines: number): void;
  scrollTo(to: 'top' | 'bottom'): void;
}

/** One blessed screen cell: attribute and the text drawn there ('' after a wide char). */
export type BlessedCell = [number, string];

/** A row of blessed's screen buffer (`screen.lines[y]`); `dirty` makes blessed redraw it. */
export type ScreenRow = BlessedCell[] & { dirty?: boolean };

export interface PaneCursor {
  x: number;
  y: number;
  visible: boolean;
}

export const DEFAULT_SCROLLBACK = 5000;

export interface PaneEvents {
  frame: [frame: Frame];
  /** A frame changed what the pane shows (a frame for text printed ahead of it does not). */
  changed: [];
  ahead: [ahead: Ahead];
}

export class TerminalPane extends EventEmitter<PaneEvents> {
  private shown: (RowCells | undefined)[] = [];
  private cursorAt: PaneCursor = { x: 0, y: 0, visible: true };
  private view = { top: 0, history: 0 };

  /** `screen`'s frames are applied as they come (see apply). */
  constructor(private readonly screen: FrameSource) {
    super();
    screen.on('frame', (frame) => this.apply(frame));
    screen.on('ahead', (ahead) => this.emit('ahead', ahead));
  }

  get cols(): number {
    return this.screen.cols;
  }

  get rows(): number {
    return this.screen.rows;
  }

  /** A frame from the worker: its rows replace the ones shown. */
  apply(frame: Frame): void {
    const { cursor, viewTop: top, historyLength: history } = frame;
    let changed = this.shown.length > this.rows || !sameCursor(cursor, this.cursorAt) || top !== this.view.top || history !== this.view.history;
    for (const { y, cells } of frame.rows) {
      const shown = this.shown[y];
      changed ||= !shown || !sameRow(shown, cells);
      this.shown[y] = cells;
    }
    this.shown.length = Math.min(this.shown.length, this.rows);
    this.cursorAt = cursor;
    this.view = { top, history };
    this.emit('frame', frame);
    if (changed) this.emit('changed');
  }

  /** The buffer line shown on the pane's first row. */
  get viewTop(): number {
    return this.view.top;
  }

  /** Lines of history above the live screen (0 on the alternate screen). */
  get historyLength(): number {
    return this.view.history;
  }

  get scrolledBack(): boolean {
    return this.view.top < this.view.history;
  }

  /** Moves the view `lines` up (negative) or down; reaching the bottom returns to live. */
  scrollBy(lines: number): void {
    this.screen.scrollBy(lines);
  }

  scrollToTop(): void {
    this.screen.scrollTo('top');
  }

  scrollToBottom(): void {
    this.screen.scrollTo('bottom');
  }

  /**
   * Paints the rows shown into `lines` at (left, top), `height` rows at most; marks
   * changed rows dirty and returns how many changed. Comparing against blessed's rows
   * themselves, not a private copy, means cells an overlay drew over are repainted too.
   */
  paint(lines: ScreenRow[], left: number, top: number, height: number): number {
    let changed = 0;
    for (let y = 0; y < Math.min(height, this.rows); y++) {
      const row = lines[top + y];
      if (!row) break;
      if (paintRow(row, left, this.cols, this.shown[y])) {
        row.dirty = true;
        changed++;
      }
    }
    return changed;
  }

  /**
   * Text printed ahead of its frame, put into the rows shown and into blessed's `row`
   * (what the screen should show) and `drawn` (what the outer terminal shows), at `left`;
   * the cursor moves past it (or onto the last column). Only where those cells show the
   * pane's own (no overlay over them, nothing waiting to be drawn) and no wide character
   * is cut in two: whether it was.
   */
  printAhead(row: BlessedCell[], drawn: BlessedCell[], left: number, { x, y, text }: Ahead): boolean {
    const shown = this.shown[y];
    const end = x + text.length;
    if (!shown || end > this.cols) return false;
    for (let at = x; at <= end; at++) {
      // '' is the second half of a wide character: neither half may be overwritten alone.
      if (shown.text[at] === '') return false;
      if (at === end) break;
      const cell = row[left + at];
      const was = drawn[left + at];
      if (!cell || !was || cell[0] !== shown.attrs[at] || cell[1] !== shown.text[at] || was[0] !== cell[0] || was[1] !== cell[1]) return false;
    }
    const printed = printedOn(shown, x, text);
    for (let at = x; at < end; at++) {
      for (const cell of [row[left + at]!, drawn[left + at]!]) {
        cell[0] = printed.attrs[at]!;
        cell[1] = printed.text[at]!;
      }
    }
    this.shown[y] = printed;
    this.cursorAt = { ...this.cursorAt, ...cursorAfter({ x, y, text }, this.cols) };
    return true;
  }

  /** Where the program's cursor is on the pane, and whether it should be shown. */
  cursor(): PaneCursor {
    return this.cursorAt;
  }
}

function sameCursor(a: PaneCursor, b: PaneCursor): boolean {
  return a.x === b.x && a.y === b.y && a.visible === b.visible;
}

/** Copies `cells` (blanks when there are none yet) into `row` from `left`; tells whether any cell changed. */
function paintRow(row: BlessedCell[], left: number, cols: number, cells: RowCells | undefined): boolean {
  let changed = false;
  for (let x = 0; x < cols; x++) {
    const target = row[left + x];
    if (target === undefined) break;
    const attr = cells?.attrs[x] ?? DEFAULT_ATTR;
    const text = cells?.text[x] ?? ' ';
    if (target[0] !== attr || target[1] !== text) {
      target[0] = attr;
      target[1] = text;
      changed = true;
    }
  }
  return changed;
}

/**
 * The terminal pane on the main thread: the rows the screen worker sent last (each
 * frame carries the rows that changed, at most one frame per 16 ms; src/screen/worker.ts)
 * and the code that copies them into blessed's screen cells. blessed then writes only
 * the cells that differ from what the outer terminal already shows. Scrolling the view
 * through the history is the worker's: the pane asks, the next frame shows it.
 */
import { EventEmitter } from 'node:events';
import { DEFAULT_ATTR, type RowCells } from '../screen/cells.js';
import type { Frame } from '../screen/model.js';

/** Where the frames come from: the session's Emulator (a ScreenModel in-process in tests). */
export interface FrameSource {
  readonly cols: number;
  readonly rows: number;
  on(event: 'frame', listener: (frame: Frame) => void): unknown;
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

export class TerminalPane extends EventEmitter<{ frame: [frame: Frame] }> {
  private shown: (RowCells | undefined)[] = [];
  private cursorAt: PaneCursor = { x: 0, y: 0, visible: true };
  private view = { top: 0, history: 0 };

  /** `screen`'s frames are applied as they come (see apply). */
  constructor(private readonly screen: FrameSource) {
    super();
    screen.on('frame', (frame) => this.apply(frame));
  }

  get cols(): number {
    return this.screen.cols;
  }

  get rows(): number {
    return this.screen.rows;
  }

  /** A frame from the worker: its rows replace the ones shown. */
  apply(frame: Frame): void {
    for (const { y, cells } of frame.rows) this.shown[y] = cells;
    this.shown.length = Math.min(this.shown.length, this.rows);
    this.cursorAt = frame.cursor;
    this.view = { top: frame.viewTop, history: frame.historyLength };
    this.emit('frame', frame);
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

  /** Where the program's cursor is on the pane, and whether it should be shown. */
  cursor(): PaneCursor {
    return this.cursorAt;
  }
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

/**
 * Puts a TerminalPane on a blessed screen: the pane is painted before blessed
 * renders its widgets (so overlays draw on top of it and the pane repaints the
 * cells they leave), and the outer cursor follows the program's cursor. A frame
 * from the screen worker that changes the pane is drawn as it arrives (the worker
 * already sends at most one per frame time); other redraws (the status line,
 * overlays) are coalesced. Text printed ahead of its frame (a keystroke's echo) is
 * written at once, as blessed would draw it, and noted in blessed's buffers so that
 * the frame after it changes nothing.
 */
import type { Widgets } from 'blessed';
import type { Ahead } from '../screen/print-ahead.js';
import type { ScreenRow, TerminalPane } from './pane.js';

/** blessed's screen buffers (what it should show, what it has drawn) and cursor-tracking program; not in @types/blessed. */
interface ScreenInternals {
  lines: ScreenRow[];
  olines: ScreenRow[];
  program: Widgets.Screen['program'] & { x: number; y: number; cursorHidden: boolean; _write(text: string): unknown; flush(): void };
}

export interface PaneRegion {
  left: number;
  top: number;
  /** Rows available to the pane (the screen minus the status line). */
  height: number;
}

export class PaneView {
  /** Off while an overlay has the keyboard: the program's cursor would show through. */
  showCursor = true;
  /** Rows repainted since the view was created (a measure for tests and benches). */
  rowsPainted = 0;
  private readonly internals: ScreenInternals;
  private pending: NodeJS.Immediate | undefined;
  private stopped = false;

  constructor(
    private readonly screen: Widgets.Screen,
    private readonly pane: TerminalPane,
    private readonly region: () => PaneRegion,
  ) {
    this.internals = screen as unknown as ScreenInternals;
    screen.on('prerender', () => this.paint());
    screen.on('render', () => this.placeCursor());
    pane.on('changed', () => this.render());
    pane.on('ahead', (ahead) => this.printAhead(ahead));
  }

  /** Redraw soon, together with whatever else asks in the meantime. */
  request(): void {
    if (this.stopped) return;
    this.pending ??= setImmediate(() => this.render());
  }

  /** Draw nothing more (the terminal is gone, or the session is over). */
  stop(): void {
    this.stopped = true;
    clearImmediate(this.pending);
    this.pending = undefined;
  }

  private render(): void {
    clearImmediate(this.pending);
    this.pending = undefined;
    if (!this.stopped) this.screen.render();
  }

  /** Not while an overlay has the keyboard, nor over cells something else covers or has yet to draw. */
  private printAhead(ahead: Ahead): void {
    const { left, top, height } = this.region();
    if (this.stopped || !this.showCursor || ahead.y >= height) return;
    const { lines, olines, program } = this.internals;
    const row = lines[top + ahead.y];
    const drawn = olines[top + ahead.y];
    if (!row || !drawn || row.dirty || !this.pane.printAhead(row, drawn, left, ahead)) return;
    const y = top + ahead.y;
    const x = left + ahead.x;
    if (program.y !== y || program.x !== x) program.cup(y, x);
    program._write(ahead.text);
    program.x = x + ahead.text.length;
    // After the pane's last column: on it, as the program's terminal shows a cursor waiting to wrap (ours may not be).
    const cursorX = left + this.pane.cursor().x;
    if (program.x !== cursorX) program.cup(y, cursorX);
    program.flush();
  }

  private paint(): void {
    const { left, top, height } = this.region();
    this.rowsPainted += this.pane.paint(this.internals.lines, left, top, height);
  }

  private placeCursor(): void {
    const program = this.internals.program;
    const { left, top, height } = this.region();
    const cursor = this.pane.cursor();
    const visible = this.showCursor && cursor.visible && cursor.y < height;
    if (visible) {
      const y = top + cursor.y;
      const x = left + cursor.x;
      if (program.y !== y || program.x !== x) program.cup(y, x);
      if (program.cursorHidden) program.showCursor();
    } else if (!program.cursorHidden) {
      program.hideCursor();
    }
  }
}

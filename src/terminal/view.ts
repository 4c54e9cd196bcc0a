/**
 * Puts a TerminalPane on a blessed screen: the pane is painted before blessed
 * renders its widgets (so overlays draw on top of it and the pane repaints the
 * cells they leave), and the outer cursor follows the program's cursor.
 */
import type { Widgets } from 'blessed';
import { FRAME_MS, FrameClock, QUICK_FRAME_MS, type ScreenRow, type TerminalPane } from './pane.js';

/** blessed's screen buffer and cursor-tracking program; not in @types/blessed. */
interface ScreenInternals {
  lines: ScreenRow[];
  program: Widgets.Screen['program'] & { x: number; y: number; cursorHidden: boolean };
}

export interface PaneRegion {
  left: number;
  top: number;
  /** Rows available to the pane (the screen minus the status line). */
  height: number;
}

export class PaneView {
  readonly frames: FrameClock;
  /** Off while an overlay has the keyboard: the program's cursor would show through. */
  showCursor = true;
  /** Rows repainted since the view was created (a measure for tests and benches). */
  rowsPainted = 0;
  private readonly internals: ScreenInternals;

  /** `flooding()` tells whether output is still waiting to be parsed (frames slow down). */
  constructor(
    private readonly screen: Widgets.Screen,
    private readonly pane: TerminalPane,
    private readonly region: () => PaneRegion,
    flooding: () => boolean = () => false,
  ) {
    this.internals = screen as unknown as ScreenInternals;
    this.frames = new FrameClock(() => this.screen.render(), () => (flooding() ? FRAME_MS : QUICK_FRAME_MS));
    screen.on('prerender', () => this.paint());
    screen.on('render', () => this.placeCursor());
    pane.term.onWriteParsed(() => this.frames.request());
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

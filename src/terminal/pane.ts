/**
 * The terminal pane: an @xterm/headless terminal (the emulator) and the code
 * that paints its active buffer (normal or alternate) into blessed's screen
 * cells. blessed then writes only the cells that differ from what the outer
 * terminal already shows, so a frame costs one pass over the visible cells
 * plus output proportional to what changed; frames are coalesced by the caller
 * (see FrameClock) so a flood of output costs at most one paint per frame.
 */
import xterm from '@xterm/headless';
import type { IBufferCell, Terminal as XTerminal } from '@xterm/headless';
import { paintRow, type BlessedCell } from './cells.js';

/** A row of blessed's screen buffer (`screen.lines[y]`); `dirty` makes blessed redraw it. */
export type ScreenRow = BlessedCell[] & { dirty?: boolean };

export interface PaneOptions {
  cols: number;
  rows: number;
  /** Lines of history kept for the scrollback mode. */
  scrollback?: number;
  /** Answers the emulator gives to the program's queries (DA, DSR…): must reach the program. */
  onReply: (data: string) => void;
}

export interface PaneCursor {
  x: number;
  y: number;
  visible: boolean;
}

export const DEFAULT_SCROLLBACK = 5000;

export class TerminalPane {
  readonly term: XTerminal;
  private readonly scratch: IBufferCell;
  private cursorHidden = false;
  /** Absolute buffer line shown at the top while in scrollback mode; undefined when live. */
  private scrollTop: number | undefined;

  constructor(options: PaneOptions) {
    this.term = new xterm.Terminal({
      cols: options.cols,
      rows: options.rows,
      scrollback: options.scrollback ?? DEFAULT_SCROLLBACK,
      allowProposedApi: true,
    });
    this.scratch = this.term.buffer.normal.getNullCell();
    this.term.onData((reply) => {
      if (reply.length > 0) options.onReply(reply);
    });
    this.trackCursorVisibility();
  }

  get cols(): number {
    return this.term.cols;
  }

  get rows(): number {
    return this.term.rows;
  }

  /**
   * Tells the emulator the user just typed (the keys themselves go to the pty
   * another way). xterm then parses the next output at once instead of in a
   * later timer: the echo of a keystroke is drawn a millisecond sooner. This
   * is xterm's own latency rule for typed input; an empty input() is the
   * public way to trigger it without sending anything.
   */
  userTyped(): void {
    this.term.input('', true);
  }

  /** Feeds program output to the emulator; `parsed` runs once xterm has consumed it. */
  write(data: string | Uint8Array, parsed?: () => void): void {
    this.term.write(data, parsed);
  }

  resize(cols: number, rows: number): void {
    if (cols === this.term.cols && rows === this.term.rows) return;
    this.term.resize(Math.max(1, cols), Math.max(1, rows));
    this.clampScroll();
  }

  /**
   * DECTCEM (`CSI ? 25 l/h`) is not among xterm's public modes: watch the
   * sequences that change it. RIS and DECSTR show the cursor again.
   * The handlers return false so xterm still processes them itself.
   */
  private trackCursorVisibility(): void {
    const parser = this.term.parser;
    const watch = (visible: boolean) => (params: (number | number[])[]) => {
      if (params.includes(25)) this.cursorHidden = !visible;
      return false;
    };
    parser.registerCsiHandler({ prefix: '?', final: 'h' }, watch(true));
    parser.registerCsiHandler({ prefix: '?', final: 'l' }, watch(false));
    parser.registerCsiHandler({ intermediates: '!', final: 'p' }, () => ((this.cursorHidden = false), false));
    parser.registerEscHandler({ final: 'c' }, () => ((this.cursorHidden = false), false));
  }

  /** The buffer line shown on the pane's first row. */
  get viewTop(): number {
    return this.scrollTop ?? this.term.buffer.active.baseY;
  }

  get scrolledBack(): boolean {
    return this.scrollTop !== undefined;
  }

  /** Lines of history above the live screen (0 on the alternate screen). */
  get historyLength(): number {
    return this.term.buffer.active.baseY;
  }

  /** Moves the view `lines` up (negative) or down; reaching the bottom returns to live. */
  scrollBy(lines: number): void {
    const top = Math.max(0, Math.min(this.historyLength, this.viewTop + lines));
    this.scrollTop = top >= this.historyLength ? undefined : top;
  }

  scrollToTop(): void {
    this.scrollTop = this.historyLength > 0 ? 0 : undefined;
  }

  scrollToBottom(): void {
    this.scrollTop = undefined;
  }

  private clampScroll(): void {
    if (this.scrollTop !== undefined && this.scrollTop >= this.historyLength) this.scrollTop = undefined;
  }

  /**
   * Paints the visible part of the buffer into `lines` at (left, top), `height`
   * rows at most; marks changed rows dirty and returns how many changed.
   */
  paint(lines: ScreenRow[], left: number, top: number, height: number): number {
    this.clampScroll();
    const buffer = this.term.buffer.active;
    const first = this.viewTop;
    const rows = Math.min(height, this.term.rows);
    let changed = 0;
    for (let y = 0; y < rows; y++) {
      const row = lines[top + y];
      if (!row) break;
      if (paintRow(row, left, this.term.cols, buffer.getLine(first + y), this.scratch)) {
        row.dirty = true;
        changed++;
      }
    }
    return changed;
  }

  /** Where the program's cursor is on the pane, and whether it should be shown. */
  cursor(): PaneCursor {
    const buffer = this.term.buffer.active;
    const y = buffer.baseY + buffer.cursorY - this.viewTop;
    const x = Math.min(buffer.cursorX, this.term.cols - 1);
    return { x, y, visible: !this.cursorHidden && y >= 0 && y < this.term.rows };
  }

  dispose(): void {
    this.term.dispose();
  }
}

/**
 * Coalesces render requests: a request renders at once when the last frame
 * is at least `interval()` old, otherwise when it will be; requests in between
 * join that frame. The caller picks the interval: short while output comes in
 * small pieces (typing echo), a frame's length while a flood is being parsed.
 */
export class FrameClock {
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private last = 0;

  constructor(
    private readonly render: () => void,
    private readonly interval: () => number = () => FRAME_MS,
  ) {}

  request(): void {
    if (this.timer) return;
    const wait = this.last + this.interval() - performance.now();
    this.timer = wait <= 0 ? setImmediate(this.frame) : setTimeout(this.frame, wait);
  }

  private readonly frame = (): void => {
    this.timer = undefined;
    this.last = performance.now();
    this.render();
  };

  cancel(): void {
    if (this.timer) {
      clearTimeout(this.timer as NodeJS.Timeout);
      clearImmediate(this.timer as NodeJS.Immediate);
    }
    this.timer = undefined;
  }
}

/** One frame at 60 Hz: the pace of rendering while output floods in. */
export const FRAME_MS = 16;
/** The pace while output arrives in small pieces: low latency, bounded cost. */
export const QUICK_FRAME_MS = 4;

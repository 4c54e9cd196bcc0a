/**
 * What a program's terminal shows: an @xterm/headless emulator fed with the program's
 * output, and what ckpty needs from it — the rows to paint (with their changes since the
 * last frame), a history to browse, the bytes that paint the screen again at a thaw
 * (repaint), and the bytes that put the terminal back as the shell had it after a freeze
 * (leave). It runs in the screen worker (worker.ts); being a plain class, tests drive it
 * directly.
 *
 * The shell's side of the screen is remembered at mark(): called whenever the shell waits
 * at its prompt, it notes the line the prompt is on (the job's output starts below it) and
 * the modes (the ones to go back to). Until the next mark, output that positions the
 * cursor anywhere (CUP, VPA, ED, DECSTBM, IL/DL, SU/SD, RI) "addresses" the screen: the job
 * draws screens rather than lines.
 */
import xterm from '@xterm/headless';
import type { IBufferCell, IMarker, Terminal } from '@xterm/headless';
import serializeAddon from '@xterm/addon-serialize';
import type { SerializeAddon } from '@xterm/addon-serialize';
import { readRow, sameRow, type RowCells } from './cells.js';
import { isPlainText, skippable, type NextMarked } from './flood.js';
import { defaultAttributes, onRowsChanged, parserAtRest, plainCharset, scrollRegion } from './internals.js';
import { defaultModes, modeChanges, readModes, regionChange, type ScreenModes } from './modes.js';

export interface ModelOptions {
  cols: number;
  rows: number;
  /** Lines of history kept above the screen (for browsing it). */
  scrollback: number;
}

export interface ModelEvents {
  /** Answers to the program's queries (DA, DSR…): they must reach the program. */
  reply?(data: string): void;
  title?(title: string): void;
  bell?(): void;
}

/** Changed rows of the view since the last frame, and where the cursor is. */
export interface Frame {
  rows: { y: number; cells: RowCells }[];
  cursor: { x: number; y: number; visible: boolean };
  /** Buffer line at the top of the view, and how many lines of history there are. */
  viewTop: number;
  historyLength: number;
  modes: ScreenModes;
  /**
   * Where printable ASCII written now would print as it is, in the default attributes,
   * moving the cursor right and nothing else; undefined when it would not (see printsPlainAt).
   * Not always the cursor: one waiting to wrap is shown on the last column.
   */
  plain: { x: number; y: number } | undefined;
}

/**
 * After a freeze: the bytes that put the terminal back. They end at the start of a line,
 * so that the shell's prompt does not follow the job's last output on its line (as after
 * `>>> ` in python3). `alternateLeft`: they leave the alternate screen, for a line the
 * output so far did not show.
 */
export interface Leave {
  bytes: string;
  alternateLeft?: true;
}

/** How a screen is painted again: the program's own screen, the whole normal screen, or its lines. */
export type RepaintKind = 'alternate' | 'screen' | 'lines';

const { Terminal: XTerminal } = xterm;
const { SerializeAddon: Serializer } = serializeAddon as unknown as { SerializeAddon: new () => SerializeAddon };

/** How the serializer starts the alternate screen's part. */
const ALTERNATE_SWITCH = '\x1b[?1049h\x1b[H';

const ADDRESSING_CSI = ['H', 'f', 'd', 'J', 'r', 'L', 'M', 'S', 'T'];

export class ScreenModel {
  readonly term: Terminal;
  private readonly serializer: SerializeAddon;
  private readonly scratch: IBufferCell;
  private readonly scrollback: number;
  private marker: IMarker | undefined;
  private baseline: ScreenModes;
  /** Nothing is known about where the job began until the first mark. */
  private addressed = true;
  /**
   * Whether the job places text by position since it last cleared the screen: `clear`
   * followed by lines (gdb's prompt) is a screen the job addressed, not one it draws.
   * A job that clears again redraws its screen (a `clear; date` loop): it draws.
   */
  private drawing = true;
  /** Times the job cleared the screen since the prompt. */
  private clears = 0;
  /** Plain text write() left for the next write or flush(). */
  private deferred: Uint8Array | undefined;
  /** Buffer line shown at the top while browsing the history; undefined when live. */
  private scrollTop: number | undefined;
  /** The view's rows as the last frame sent them. */
  private sent: RowCells[] = [];
  /** The view's rows that may have changed since the last frame (first > last: none). */
  private changed = { first: 0, last: Infinity };

  constructor(options: ModelOptions, events: ModelEvents = {}) {
    this.scrollback = options.scrollback;
    this.term = new XTerminal({ cols: options.cols, rows: options.rows, scrollback: options.scrollback, allowProposedApi: true });
    this.serializer = new Serializer();
    this.term.loadAddon(this.serializer as unknown as Parameters<Terminal['loadAddon']>[0]);
    this.scratch = this.term.buffer.normal.getNullCell();
    this.baseline = defaultModes(options.rows);
    this.term.onData((reply) => {
      if (reply.length > 0) events.reply?.(reply);
    });
    if (events.title) this.term.onTitleChange(events.title);
    if (events.bell) this.term.onBell(events.bell);
    const parser = this.term.parser;
    const addressing = (): boolean => ((this.addressed = this.drawing = true), false);
    for (const final of ADDRESSING_CSI) parser.registerCsiHandler({ final }, final === 'J' ? (params) => this.erasing(params) : addressing);
    parser.registerEscHandler({ final: 'M' }, addressing);
    onRowsChanged(this.term, (rows) => this.rowsChanged(rows?.start ?? 0, rows?.end ?? Infinity));
  }

  /**
   * ED: erasing the whole screen (or all of it from the home position) starts it afresh,
   * the first time; erasing the history (3, after 2 in `clear`) leaves the screen as it was.
   */
  private erasing(params: (number | number[])[]): boolean {
    const { cursorX, cursorY } = this.term.buffer.active;
    const which = params[0] ?? 0;
    this.addressed = true;
    if (which === 2 || (which === 0 && cursorX === 0 && cursorY === 0)) this.drawing = ++this.clears > 1;
    else if (which !== 3) this.drawing = true;
    return false;
  }

  private rowsChanged(first: number, last: number): void {
    this.changed = { first: Math.min(this.changed.first, first), last: Math.max(this.changed.last, last) };
  }

  get cols(): number {
    return this.term.cols;
  }

  get rows(): number {
    return this.term.rows;
  }

  /**
   * Parses `data`, leaving out what a flood of plain text would only scroll away
   * (flood.ts) where the parser is between sequences and the whole screen scrolls.
   * Resolves once parsed. With `defer`, plain text after the last part left out waits
   * (copied) until the next write, which may show that it can be left out too, or
   * until flush(): under a flood that nobody watches, the lines a write keeps would
   * otherwise be parsed once per write, only to scroll away with the next one.
   * `nextMarked` (the ring's marks) says where in `data` bytes other than plain text may be.
   */
  async write(data: Uint8Array, defer = false, nextMarked?: NextMarked): Promise<void> {
    const keepLines = this.scrollback + 2 * this.term.rows;
    // Fewer bytes than line feeds to keep: nothing to leave out (a keystroke's echo).
    const skips = data.length <= keepLines ? [] : skippable(data, keepLines, nextMarked);
    // The deferred text is plain, and the parser rests before it with the whole screen
    // scrolling: a run of plain text from data's start that is left out covers it too.
    if (skips[0]?.start === 0) this.deferred = undefined;
    else if (this.deferred) await this.flush();
    let at = 0;
    for (const skip of skips) {
      await this.parse(data.subarray(at, skip.start));
      const { top, bottom } = scrollRegion(this.term);
      at = parserAtRest(this.term) && top === 0 && bottom === this.term.rows - 1 ? skip.end : skip.start;
    }
    const rest = data.subarray(at);
    if (defer && at > 0 && at === skips.at(-1)?.end && isPlainText(rest)) this.deferred = Buffer.from(rest);
    else await this.parse(rest);
  }

  /** Parses what write() deferred: before anything reads or changes the screen. */
  async flush(): Promise<void> {
    const deferred = this.deferred;
    this.deferred = undefined;
    if (deferred) await this.parse(deferred);
  }

  private parse(data: Uint8Array): Promise<void> {
    if (data.length === 0) return Promise.resolve();
    // An (empty) user input makes xterm parse this write at once instead of in a later timer.
    this.term.input('', true);
    return new Promise((resolve) => this.term.write(data, resolve));
  }

  resize(cols: number, rows: number): void {
    if (cols === this.term.cols && rows === this.term.rows) return;
    this.term.resize(Math.max(1, cols), Math.max(1, rows));
    this.sent = [];
    this.rowsChanged(0, Infinity);
    this.clampScroll();
  }

  /** The shell waits at its prompt: its line and its modes, for repaint() and leave(). */
  mark(): void {
    if (this.term.buffer.active.type !== 'normal') return;
    this.marker?.dispose();
    this.marker = this.term.registerMarker(0);
    this.baseline = readModes(this.term);
    this.addressed = this.drawing = false;
    this.clears = 0;
  }

  modes(): ScreenModes {
    return readModes(this.term);
  }

  /** Whether a program owns the screen: the alternate screen, or text placed by position since the prompt or the last clear. */
  owned(): boolean {
    return this.drawing || this.term.buffer.active.type === 'alternate';
  }

  repaintKind(): RepaintKind {
    if (this.term.buffer.active.type === 'alternate') return 'alternate';
    return this.addressed ? 'screen' : 'lines';
  }

  /**
   * Bytes that paint this screen on a terminal of the same size in its default modes,
   * written at a thaw below `ckpty: thawed …`: the program's alternate screen; the whole
   * normal screen (what was there is pushed into the history first); or, for a job that
   * wrote lines, its lines since the prompt (at most a screenful) from the current line
   * on. Then the cursor, its attributes and the modes the program had set.
   */
  repaint(): string {
    const kind = this.repaintKind();
    const buffer = this.term.buffer.active;
    const rows = this.term.rows;
    const modes = readModes(this.term);
    const defaults = defaultModes(rows);
    const cursorLine = buffer.baseY + buffer.cursorY;
    let out = '';
    // A cursor past the last column (the next character wraps) is put there by writing that line again.
    const pendingWrap = buffer.cursorX >= this.term.cols;
    if (kind === 'lines') {
      const alive = this.marker && !this.marker.isDisposed ? this.marker.line + 1 : 0;
      for (let y = Math.max(alive, cursorLine - rows + 1); y < cursorLine; y++) out += `\x1b[0m${this.row(y)}\x1b[0m\r\n`;
      out += `\x1b[0m${this.row(cursorLine, true)}`;
      if (!pendingWrap) out += `\r${buffer.cursorX > 0 ? `\x1b[${buffer.cursorX}C` : ''}`;
    } else if (kind === 'alternate') {
      out += `\x1b[?1049h\x1b[H\x1b[2J${this.alternateScreen()}`;
    } else {
      out += `\x1b[${rows};1H${'\n'.repeat(rows)}\x1b[H`;
      for (let y = 0; y < rows; y++) {
        const last = y === rows - 1;
        const text = this.row(buffer.baseY + y, last);
        if (text || last) out += `\x1b[${y + 1};1H\x1b[0m${text}`;
      }
    }
    if (kind !== 'lines') {
      out += regionChange(defaults, modes, false);
      if (modes.origin) out += '\x1b[?6h';
      const top = modes.origin ? modes.scrollRegion.top : 0;
      out += pendingWrap
        ? `\x1b[${buffer.cursorY - top + 1};1H\x1b[0m${this.row(cursorLine, true)}`
        : `\x1b[${buffer.cursorY - top + 1};${buffer.cursorX + 1}H`;
    }
    return out + modeChanges({ ...defaults, origin: modes.origin }, modes);
  }

  /**
   * After the job is gone: the bytes that take the terminal from the job's modes back
   * to the ones the shell had at its prompt — the normal screen, the cursor, key
   * encodings, mouse and focus reporting, the scroll region, default attributes.
   * Bracketed paste goes off if the job left it on: a shell's line editor turns it on
   * again with its next prompt (and off before it runs a command). A cursor left after
   * text goes to the next line.
   */
  leave(): Leave {
    const now = readModes(this.term);
    const back = { ...this.baseline, bracketedPaste: false };
    const leavesAlternate = now.altScreen && !back.altScreen;
    let out = defaultAttributes(this.term) ? '' : '\x1b[0m';
    if (leavesAlternate) out += '\x1b[?1049l';
    // Leaving the alternate screen brings the normal screen's region back.
    const region = leavesAlternate ? { ...now, scrollRegion: scrollRegion(this.term, 'normal') } : now;
    out += regionChange(region, back, true) + modeChanges(now, back);
    // The region's change keeps the cursor, and the modes' do not move it.
    if (this.term.buffer[leavesAlternate ? 'normal' : 'active'].cursorX !== 0) out += '\r\n';
    return leavesAlternate ? { bytes: out, alternateLeft: true } : { bytes: out };
  }

  /**
   * The alternate screen as the serializer writes it from the top left corner: it
   * serializes that screen only after the normal one, behind its own switch to it.
   */
  private alternateScreen(): string {
    const all = this.serializer.serialize({ scrollback: 0, excludeModes: true });
    return all.slice(all.indexOf(ALTERNATE_SWITCH) + ALTERNATE_SWITCH.length);
  }

  /**
   * One line of the normal screen as the serializer writes it, '' for a blank one. It ends by switching to the
   * attributes the program writes with now; that is kept only for the `last` line painted.
   */
  private row(line: number, last = false): string {
    const text = this.serializer.serialize({ range: { start: line, end: line }, excludeModes: true, excludeAltBuffer: true });
    return last ? text : text.replace(/(\x1b\[[0-9;:]*m)+$/, '');
  }

  // The view: live rows, or the history while browsing it.

  get viewTop(): number {
    return this.scrollTop ?? this.term.buffer.active.baseY;
  }

  get historyLength(): number {
    return this.term.buffer.active.baseY;
  }

  /** Moves the view `lines` up (negative) or down; reaching the bottom returns to live. */
  scrollBy(lines: number): void {
    const top = Math.max(0, Math.min(this.historyLength, this.viewTop + lines));
    this.scrollTop = top >= this.historyLength ? undefined : top;
    this.rowsChanged(0, Infinity);
  }

  scrollToTop(): void {
    this.scrollTop = this.historyLength > 0 ? 0 : undefined;
    this.rowsChanged(0, Infinity);
  }

  scrollToBottom(): void {
    this.scrollTop = undefined;
    this.rowsChanged(0, Infinity);
  }

  private clampScroll(): void {
    if (this.scrollTop !== undefined && this.scrollTop >= this.historyLength) this.scrollTop = undefined;
  }

  /**
   * The view's rows that changed since the last frame (all of them after a resize):
   * those xterm reports changed, compared cell by cell with what was sent. While the view
   * shows the history, the history itself moves under it: every row is looked at.
   */
  frame(): Frame {
    this.clampScroll();
    const buffer = this.term.buffer.active;
    const top = this.viewTop;
    const rows: Frame['rows'] = [];
    const { first, last } = this.scrollTop === undefined ? this.changed : { first: 0, last: Infinity };
    this.changed = { first: Infinity, last: -1 };
    for (let y = first; y <= Math.min(last, this.term.rows - 1); y++) {
      const cells = readRow(buffer.getLine(top + y), this.term.cols, this.scratch);
      const before = this.sent[y];
      if (before && sameRow(before, cells)) continue;
      this.sent[y] = cells;
      rows.push({ y, cells });
    }
    const modes = readModes(this.term);
    const y = buffer.baseY + buffer.cursorY - top;
    const x = Math.min(buffer.cursorX, this.term.cols - 1);
    return {
      rows,
      cursor: { x, y, visible: modes.cursorVisible && y >= 0 && y < this.term.rows },
      viewTop: top,
      historyLength: this.historyLength,
      modes,
      plain: this.printsPlainAt(),
    };
  }

  /**
   * Where the next printable ASCII character lands as it is, on the live view: the
   * parser between sequences, default attributes, US ASCII, no insert mode, no
   * synchronized update under way. Text printed there, up to the last column, changes
   * those cells and the cursor only. A cursor waiting to wrap (past the last column)
   * prints at the start of the next row when that moves down without scrolling:
   * autowrap on, the cursor neither on the scroll region's bottom nor on the last row.
   */
  printsPlainAt(): { x: number; y: number } | undefined {
    const { modes, cols, rows } = this.term;
    const buffer = this.term.buffer.active;
    const plain =
      this.scrollTop === undefined &&
      parserAtRest(this.term) &&
      defaultAttributes(this.term) &&
      plainCharset(this.term) &&
      !modes.insertMode &&
      !modes.synchronizedOutputMode;
    if (!plain) return undefined;
    const { cursorX: x, cursorY: y } = buffer;
    if (x < cols) return { x, y };
    const wraps = modes.wraparoundMode && y !== scrollRegion(this.term).bottom && y + 1 < rows;
    return wraps ? { x: 0, y: y + 1 } : undefined;
  }

  dispose(): void {
    this.term.dispose();
  }
}

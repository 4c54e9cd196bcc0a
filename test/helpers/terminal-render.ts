/**
 * Render-test rig for the terminal pane: a blessed screen whose output is a
 * fake tty feeding a second @xterm/headless terminal (the "outer" terminal).
 * Comparing the outer terminal's cells with the pane's emulator (the "inner"
 * terminal) checks the whole path: xterm cells -> blessed cells -> the escape
 * sequences blessed writes -> what a real terminal shows.
 */
import blessed from 'blessed';
import xterm from '@xterm/headless';
import type { IBufferCell, Terminal } from '@xterm/headless';
import { PassThrough, Writable } from 'node:stream';
import * as pty from 'node-pty';

export class FakeTty extends Writable {
  readonly isTTY = true;
  constructor(
    public columns: number,
    public rows: number,
    private readonly sink: (chunk: Buffer) => void,
  ) {
    super();
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.sink(chunk);
    done();
  }
  resize(columns: number, rows: number): void {
    this.columns = columns;
    this.rows = rows;
    this.emit('resize');
  }
}

export interface OuterRig {
  screen: blessed.Widgets.Screen;
  outer: Terminal;
  output: FakeTty;
  input: PassThrough;
  /** Resolves once blessed has flushed and the outer terminal has parsed everything. */
  settle(): Promise<void>;
  /** Everything blessed wrote so far. */
  written(): string;
  destroy(): void;
}

export function makeOuterRig(cols: number, rows: number): OuterRig {
  const outer = new xterm.Terminal({ cols, rows, allowProposedApi: true });
  let parsed: Promise<void> = Promise.resolve();
  const chunks: Buffer[] = [];
  const output = new FakeTty(cols, rows, (chunk) => {
    chunks.push(Buffer.from(chunk));
    const copy = Buffer.from(chunk);
    parsed = parsed.then(() => new Promise<void>((resolve) => outer.write(copy, resolve)));
  });
  const input = new PassThrough();
  // @types/blessed 0.1.27 swaps the types of IScreenOptions' input (Writable) and output (Readable).
  const screen = blessed.screen({
    input,
    output,
    terminal: 'xterm-256color',
    fullUnicode: true,
    forceUnicode: true,
    resizeTimeout: 10,
    warnings: false,
  } as unknown as blessed.Widgets.IScreenOptions);
  return {
    screen,
    outer,
    output,
    input,
    async settle() {
      await new Promise((resolve) => setImmediate(resolve));
      await parsed;
    },
    written: () => Buffer.concat(chunks).toString(),
    destroy() {
      screen.destroy();
      outer.dispose();
    },
  };
}

/** The visible rows as text; blanks blessed wrote and never-written cells look the same. */
export function screenText(term: Terminal): string {
  const buffer = term.buffer.active;
  const lines: string[] = [];
  for (let y = 0; y < term.rows; y++) lines.push(buffer.getLine(buffer.viewportY + y)?.translateToString(true).trimEnd() ?? '');
  return lines.join('\n');
}

/** The xterm-256 RGB of entries 16-255, written out from the xterm spec (not from src/). */
function specRgb(index: number): [number, number, number] {
  if (index >= 232) {
    const v = 8 + 10 * (index - 232);
    return [v, v, v];
  }
  const levels = [0, 0x5f, 0x87, 0xaf, 0xd7, 0xff];
  const i = index - 16;
  return [levels[Math.floor(i / 36)]!, levels[Math.floor(i / 6) % 6]!, levels[i % 6]!];
}

/** Brute force: the (first) 16-255 entry nearest to 0xRRGGBB, and its squared distance. */
export function nearestByBruteForce(rgb: number): { index: number; distance: number } {
  const r = (rgb >> 16) & 0xff, g = (rgb >> 8) & 0xff, b = rgb & 0xff;
  let best = { index: -1, distance: Infinity };
  for (let i = 16; i < 256; i++) {
    const [pr, pg, pb] = specRgb(i);
    const d = (pr - r) ** 2 + (pg - g) ** 2 + (pb - b) ** 2;
    if (d < best.distance) best = { index: i, distance: d };
  }
  return best;
}

export function colorDistance(rgb: number, index: number): number {
  const [pr, pg, pb] = specRgb(index);
  return (pr - ((rgb >> 16) & 0xff)) ** 2 + (pg - ((rgb >> 8) & 0xff)) ** 2 + (pb - (rgb & 0xff)) ** 2;
}

type ColorSide = 'fg' | 'bg';

function color(cell: IBufferCell, side: ColorSide): { kind: 'default' | 'palette' | 'rgb'; value: number } {
  if (side === 'fg') {
    if (cell.isFgDefault()) return { kind: 'default', value: 0 };
    return { kind: cell.isFgRGB() ? 'rgb' : 'palette', value: cell.getFgColor() };
  }
  if (cell.isBgDefault()) return { kind: 'default', value: 0 };
  return { kind: cell.isBgRGB() ? 'rgb' : 'palette', value: cell.getBgColor() };
}

export interface CellMismatch {
  x: number;
  y: number;
  what: string;
  inner: string;
  outer: string;
}

export interface CompareStats {
  cells: number;
  colored: number;
  rgb: number;
  wide: number;
  styled: number;
}

/**
 * Compares the visible rows of `inner` (starting at buffer line `innerTop`)
 * with rows [0, rows) of `outer`: text, width, bold/underline/blink/inverse/
 * invisible, and colours (truecolor must arrive as the nearest 256 entry).
 */
export function compareScreens(inner: Terminal, outer: Terminal, rows: number, innerTop = inner.buffer.active.viewportY) {
  const mismatches: CellMismatch[] = [];
  const stats: CompareStats = { cells: 0, colored: 0, rgb: 0, wide: 0, styled: 0 };
  const a = inner.buffer.active.getNullCell();
  const b = outer.buffer.active.getNullCell();
  for (let y = 0; y < rows; y++) {
    const innerLine = inner.buffer.active.getLine(innerTop + y);
    const outerLine = outer.buffer.active.getLine(outer.buffer.active.viewportY + y);
    for (let x = 0; x < inner.cols; x++) {
      if (!innerLine?.getCell(x, a) || !outerLine?.getCell(x, b)) {
        mismatches.push({ x, y, what: 'missing cell', inner: String(!!innerLine), outer: String(!!outerLine) });
        continue;
      }
      stats.cells++;
      const report = (what: string, i: unknown, o: unknown) => {
        if (i !== o) mismatches.push({ x, y, what, inner: String(i), outer: String(o) });
      };
      report('text', a.getChars() || ' ', b.getChars() || ' ');
      report('width', a.getWidth(), b.getWidth());
      if (a.getWidth() === 2) stats.wide++;
      report('bold', !!a.isBold(), !!b.isBold());
      report('underline', !!a.isUnderline(), !!b.isUnderline());
      report('blink', !!a.isBlink(), !!b.isBlink());
      report('inverse', !!a.isInverse(), !!b.isInverse());
      report('invisible', !!a.isInvisible(), !!b.isInvisible());
      if (a.isBold() || a.isUnderline() || a.isInverse()) stats.styled++;
      for (const side of ['fg', 'bg'] as const) {
        const ic = color(a, side);
        const oc = color(b, side);
        if (ic.kind !== 'default') stats.colored++;
        if (ic.kind === 'rgb') {
          stats.rgb++;
          // The outer palette entry must be as near to the RGB as the best one can be.
          const best = nearestByBruteForce(ic.value);
          const ok = oc.kind === 'palette' && oc.value >= 16 && colorDistance(ic.value, oc.value) === best.distance;
          if (!ok) mismatches.push({ x, y, what: `${side} rgb`, inner: ic.value.toString(16), outer: `${oc.kind}:${oc.value}` });
        } else {
          report(`${side} color`, `${ic.kind}:${ic.value}`, `${oc.kind}:${oc.value}`);
        }
      }
    }
  }
  return { mismatches, stats };
}

export interface ProgramRun {
  /** Every byte the program wrote. */
  output: Buffer;
}

/**
 * Runs a real program on a real pty whose output goes into `sink` (the pane's
 * emulator) and whose replies flow back; `drive` waits for screen content and
 * types keys. Resolves when the program exits.
 */
export function runOnPty(
  file: string,
  args: string[],
  options: { cols: number; rows: number; cwd?: string; env?: Record<string, string> },
  sink: { write(data: string): void },
  drive?: (pty: pty.IPty) => Promise<void>,
): { pty: pty.IPty; exited: Promise<number> } {
  const child = pty.spawn(file, args, {
    name: 'xterm-256color',
    cols: options.cols,
    rows: options.rows,
    cwd: options.cwd ?? process.cwd(),
    env: { ...(process.env as Record<string, string>), TERM: 'xterm-256color', LANG: 'C.UTF-8', ...options.env },
  });
  child.onData((data) => sink.write(data));
  const exited = new Promise<number>((resolve) => child.onExit(({ exitCode }) => resolve(exitCode)));
  if (drive) void drive(child).catch(() => child.kill());
  return { pty: child, exited };
}

/** Polls `condition` every 20 ms until it holds; fails after `timeoutMs` with `what`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

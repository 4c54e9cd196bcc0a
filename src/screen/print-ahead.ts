/**
 * Plain text shown ahead of the screen worker. A keystroke's echo otherwise reaches the
 * outer terminal only after two hops between threads (the worker parses it and sends a
 * frame back). Yet when the last frame accounts for everything written and asked so far,
 * and says where printable ASCII would print plainly (ScreenModel's printsPlainAt: at the
 * cursor, or at the start of the next row for one waiting to wrap), the result of such
 * text up to the last column is certain: those cells and the cursor, nothing else. The
 * painter may then draw it at once; the worker's frame for it follows and changes nothing.
 *
 * Prints chain: the position after one is where the next prints, so a run of keys typed
 * faster than frames come still goes ahead. A frame that does not account for a print yet
 * gets it applied on top (its rows and cursor), so it never takes back what is shown.
 */
import { printedOn } from './cells.js';
import type { Frame } from './model.js';

/** Text to draw on the view's row `y` from column `x`, in the default attributes. */
export interface Ahead {
  x: number;
  y: number;
  text: string;
}

/** How much a frame accounts for: output up to a ring position, and requests by count. */
export interface Accounted {
  output: number;
  requests: number;
}

/** Whether ring position `a` is at or after `b` (positions wrap at 2^32). */
function atOrAfter(a: number, b: number): boolean {
  return (a - b) >>> 0 < 0x8000_0000;
}

/** Printable ASCII only: the bytes that print as themselves in one cell each. */
function printable(data: Uint8Array): boolean {
  for (const byte of data) if (byte < 0x20 || byte > 0x7e) return false;
  return data.length > 0;
}

/** Where the cursor shows after a print: past its text, or on the last column when the text reaches it (waiting to wrap). */
export function cursorAfter({ x, y, text }: Ahead, cols: number): { x: number; y: number } {
  return { x: Math.min(x + text.length, cols - 1), y };
}

export class PrintAhead {
  /** Where plain text prints after what `accounted` covers; undefined when not certain. */
  private plain: { x: number; y: number } | undefined;
  private accounted: Accounted | undefined;
  /** Prints the last frame did not account for yet, with the output position each ends at. */
  private printed: (Ahead & { end: number })[] = [];

  constructor(private readonly cols: () => number) {}

  /** A frame from the worker, with the prints it does not account for applied on top. */
  frame(frame: Frame, accounted: Accounted): Frame {
    this.printed = this.printed.filter((print) => !atOrAfter(accounted.output, print.end));
    if (this.printed.length === 0) {
      this.plain = frame.plain;
      this.accounted = accounted;
      return frame;
    }
    const rows = frame.rows.map(({ y, cells }) => ({
      y,
      cells: this.printed.filter((print) => print.y === y).reduce((row, print) => printedOn(row, print.x, print.text), cells),
    }));
    const last = this.printed.at(-1)!;
    return { ...frame, rows, cursor: { ...frame.cursor, ...cursorAfter(last, this.cols()) }, plain: this.plain };
  }

  /**
   * Output `data` went into the ring at position `at`, with `requests` requests sent so
   * far: the text to show ahead, or undefined when its result is not certain.
   */
  write(data: Uint8Array, at: number, requests: number): Ahead | undefined {
    const { plain, accounted } = this;
    this.plain = undefined;
    if (!plain || !accounted || accounted.requests !== requests || this.end() !== at) return undefined;
    const cols = this.cols();
    if (!printable(data) || plain.x + data.length > cols) return undefined;
    const print = { x: plain.x, y: plain.y, text: Buffer.from(data).toString('latin1') };
    this.printed.push({ ...print, end: (at + data.length) >>> 0 });
    // Text up to the last column leaves the cursor waiting to wrap: whether the next
    // character then wraps plainly (no scroll) is for the worker's next frame to say.
    this.plain = plain.x + data.length < cols ? { x: plain.x + data.length, y: plain.y } : undefined;
    return print;
  }

  /** The output position the known state is at: the last frame's, or the last print's end. */
  private end(): number {
    return this.printed.at(-1)?.end ?? this.accounted!.output;
  }
}

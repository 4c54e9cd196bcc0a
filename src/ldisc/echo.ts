/**
 * The echo buffer and output post-processing of n_tty.
 *
 * The kernel does not write echoes straight to the terminal: it appends them to an echo
 * buffer (with a few column operations mixed in) and writes that buffer out later, through
 * the same OPOST processing as program output, with one column counter shared by both.
 * This matters for exact bytes: a tab is erased by going back to where the *output* column
 * says it started, echoes wait while output is stopped (IXON), and a signal that flushes
 * discards echoes that were still waiting.
 */
import {
  IUTF8,
  OCRNL,
  OLCUC,
  ONLCR,
  ONLRET,
  ONOCR,
  OPOST,
  TAB3,
  TABDLY,
  type Termios,
} from '../termios/termios.js';
import { isCntrl, isUtf8Continuation, toUpper } from './ctype.js';

/** What the line discipline queues for echoing. */
export type EchoOp =
  /** A byte that goes through output processing (OPOST) like program output. */
  | { op: 'byte'; byte: number }
  /** 0xff: the kernel escapes it in its buffer and writes it raw, counting one column. */
  | { op: 'ff' }
  /** A control character shown as `^X` (ECHOCTL); written raw, two columns. */
  | { op: 'ctl'; byte: number }
  /** One column back without output (after the tail bytes of a multibyte ECHOPRT erase). */
  | { op: 'back' }
  /** Remember the current column as where the line started (the "canon column"). */
  | { op: 'canon-col' }
  /** Back over a tab: `columns` is the width since the previous tab (afterTab) or line start. */
  | { op: 'erase-tab'; columns: number; afterTab: boolean };

/** Size of each operation in the kernel's echo buffer, which is what its overrun rule counts. */
function kernelSize(op: EchoOp): number {
  switch (op.op) {
    case 'byte':
      return 1;
    case 'erase-tab':
      return 3;
    default:
      return 2;
  }
}

/** Only column bookkeeping can proceed when the driver has no room (output stopped). */
function needsRoom(op: EchoOp): boolean {
  return op.op !== 'back' && op.op !== 'canon-col';
}

/** When this many bytes wait in the echo buffer, the kernel drops the oldest (ECHO_DISCARD_WATERMARK). */
const ECHO_DISCARD_WATERMARK = 4096 - (256 + 32);

const has = (flags: number, bit: number): boolean => (flags & bit) !== 0;

/**
 * The output side's state: the column the kernel believes the cursor is in, and the column
 * where the current input line started.
 */
export class OutputColumn {
  column = 0;
  canonColumn = 0;

  /** OPOST processing of one byte (do_output_char); appends what the terminal receives. */
  outputByte(t: Termios, c: number, out: number[]): void {
    const oflag = t.oflag;
    switch (c) {
      case 0x0a:
        if (has(oflag, ONLRET)) this.column = 0;
        if (has(oflag, ONLCR)) {
          this.canonColumn = this.column = 0;
          out.push(0x0d, 0x0a);
          return;
        }
        this.canonColumn = this.column;
        break;
      case 0x0d:
        if (has(oflag, ONOCR) && this.column === 0) return;
        if (has(oflag, OCRNL)) {
          c = 0x0a;
          if (has(oflag, ONLRET)) this.canonColumn = this.column = 0;
          break;
        }
        this.canonColumn = this.column = 0;
        break;
      case 0x09: {
        const spaces = 8 - (this.column & 7);
        this.column += spaces;
        if ((oflag & TABDLY) === TAB3) {
          for (let i = 0; i < spaces; i++) out.push(0x20);
          return;
        }
        break;
      }
      case 0x08:
        if (this.column > 0) this.column--;
        break;
      default:
        if (!isCntrl(c)) {
          if (has(oflag, OLCUC)) c = toUpper(c);
          if (!(has(t.iflag, IUTF8) && isUtf8Continuation(c))) this.column++;
        }
    }
    out.push(c);
  }

  private back(): void {
    if (this.column > 0) this.column--;
  }

  /** Writes one echo operation (the kernel's echo-op interpreter and __process_echoes). */
  outputOp(t: Termios, op: EchoOp, out: number[]): void {
    switch (op.op) {
      case 'byte':
        if (has(t.oflag, OPOST)) this.outputByte(t, op.byte, out);
        else out.push(op.byte); // without OPOST the kernel does not even count columns
        return;
      case 'ff':
        out.push(0xff);
        this.column++;
        return;
      case 'ctl':
        out.push(0x5e, op.byte ^ 0x40);
        this.column += 2;
        return;
      case 'back':
        this.back();
        return;
      case 'canon-col':
        this.canonColumn = this.column;
        return;
      case 'erase-tab': {
        // The width of the tab depends on where it started: count from the previous tab,
        // or from the line's start column when it is the line's first tab.
        const start = op.afterTab ? op.columns : op.columns + this.canonColumn;
        for (let n = 8 - (start & 7); n > 0; n--) {
          out.push(0x08);
          this.back();
        }
        return;
      }
    }
  }
}

/**
 * Echoes waiting to be written. `marked` counts the operations up to the kernel's echo mark:
 * the point up to which a restart of output (START, IXANY, a signal without ECHO) writes.
 */
export class EchoQueue {
  private pending: EchoOp[] = [];
  private marked = 0;
  readonly output = new OutputColumn();

  add(op: EchoOp): void {
    this.pending.push(op);
  }

  /** commit_echoes: everything queued so far becomes writable by the next restart. */
  mark(): void {
    this.marked = this.pending.length;
  }

  /** Discard every waiting echo (a signal's output flush). */
  clear(): void {
    this.pending = [];
    this.marked = 0;
  }

  /** process_echoes: write up to the mark. */
  writeMarked(t: Termios, stopped: boolean, out: number[]): void {
    if (this.marked === 0) return;
    this.write(t, stopped, this.marked, out);
  }

  /** flush_echoes at the end of a receive: write everything. */
  writeAll(t: Termios, stopped: boolean, out: number[]): void {
    if (this.pending.length === 0) return;
    this.write(t, stopped, this.pending.length, out);
  }

  private write(t: Termios, stopped: boolean, committed: number, out: number[]): void {
    let done = 0;
    while (done < committed) {
      const op = this.pending[done]!;
      // A stopped pty has no write room: output waits until it is started again.
      if (stopped && needsRoom(op)) break;
      this.output.outputOp(t, op, out);
      done++;
    }
    // While output is stopped the buffer can overrun: the kernel drops the oldest echoes.
    let size = 0;
    for (let i = done; i < committed; i++) size += kernelSize(this.pending[i]!);
    while (size >= ECHO_DISCARD_WATERMARK) {
      size -= kernelSize(this.pending[done]!);
      done++;
    }
    this.pending.splice(0, done);
    this.marked = Math.max(0, this.marked - done);
  }
}

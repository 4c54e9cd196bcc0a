/**
 * stty's printers: `stty -a`, plain `stty` (what differs from sane), `stty -g`, with
 * GNU coreutils 9.1's exact layout. Every function returns the bytes stty would write
 * to stdout, trailing newline included.
 */
import { GLIBC_NCCS, ICANON, VDISABLE, VMIN, VTIME, type Termios, type WindowSize } from './termios.js';
import { baudOf } from './speed.js';
import { CONTROL_CHARS, FLAG_WORDS, flagIsOn, readSlot, type ControlCharWord } from './words.js';

/** Width GNU stty wraps at when its stdout is not a terminal and COLUMNS is unset. */
export const DEFAULT_WIDTH = 80;

/** A control character as stty shows it: `^C`, `^?`, `M-^X`, `M-a`, `<undef>`. */
export function formatCchar(value: number): string {
  if (value === VDISABLE) return '<undef>';
  const meta = value >= 0x80 ? 'M-' : '';
  const low = value & 0x7f;
  if (low < 0x20) return `${meta}^${String.fromCharCode(low + 0x40)}`;
  if (low === 0x7f) return `${meta}^?`;
  return meta + String.fromCharCode(low);
}

/** GNU's wrapf(): items separated by a space, or by a newline when the next would not fit. */
export class LineWrapper {
  private text = '';
  private column = 0;

  constructor(private readonly width: number) {}

  item(item: string): void {
    if (this.column > 0) {
      // GNU compares without counting the separating space, so a line may reach width + 1.
      if (this.width - this.column < item.length) {
        this.text += '\n';
        this.column = 0;
      } else {
        this.text += ' ';
        this.column++;
      }
    }
    this.text += item;
    this.column += item.length;
  }

  /** putchar('\n') followed by current_col = 0. */
  newline(): void {
    this.text += '\n';
    this.column = 0;
  }

  /** current_col = 0 without output (after an item that ended in its own newline). */
  resetColumn(): void {
    this.column = 0;
  }

  get atLineStart(): boolean {
    return this.column === 0;
  }

  toString(): string {
    return this.text;
  }
}

export interface FormatOptions {
  /** Wrap width (GNU: the terminal's columns, else $COLUMNS, else 80). */
  width?: number;
  /** Include `ckpt = X;` among the cchars (default true); false gives GNU's exact text. */
  ckpt?: boolean;
}

export interface FormatAllOptions extends FormatOptions {
  /** The window size `-a` shows; GNU omits it when the device has none. */
  size?: WindowSize;
}

const ccharItem = (entry: ControlCharWord, t: Termios): string => `${entry.name} = ${formatCchar(readSlot(t, entry.slot))};`;

function printedChars(withCkpt: boolean): ControlCharWord[] {
  return CONTROL_CHARS.filter((entry) => !entry.hidden && (withCkpt || entry.slot !== 'ckpt'));
}

const speedItem = (t: Termios): string => `speed ${baudOf(t)} baud;`;

/** `stty -a`. */
export function formatAll(t: Termios, options: FormatAllOptions = {}): string {
  const out = new LineWrapper(options.width ?? DEFAULT_WIDTH);
  out.item(speedItem(t));
  if (options.size) out.item(`rows ${options.size.rows}; columns ${options.size.cols};`);
  out.item(`line = ${t.line};`);
  out.newline();
  for (const entry of printedChars(options.ckpt ?? true)) out.item(ccharItem(entry, t));
  out.item(`min = ${t.cc[VMIN]}; time = ${t.cc[VTIME]};`);
  if (!out.atLineStart) out.newline();
  let field = FLAG_WORDS[0]?.field;
  for (const flag of FLAG_WORDS) {
    if (flag.omit) continue;
    if (flag.field !== field) {
      out.newline();
      field = flag.field;
    }
    if (flagIsOn(t, flag)) out.item(flag.name);
    else if (flag.reversible) out.item(`-${flag.name}`);
  }
  out.newline();
  return out.toString();
}

/** Plain `stty`: speed, line, and the settings that differ from `stty sane`. */
export function formatChanged(t: Termios, options: FormatOptions = {}): string {
  const out = new LineWrapper(options.width ?? DEFAULT_WIDTH);
  out.item(speedItem(t));
  out.item(`line = ${t.line};`);
  out.newline();

  let emptyLine = true;
  for (const entry of printedChars(options.ckpt ?? true)) {
    if (readSlot(t, entry.slot) === entry.sane) continue;
    emptyLine = false;
    out.item(ccharItem(entry, t));
  }
  if ((t.lflag & ICANON) === 0) {
    // GNU prints this one with its newline inside the item (which counts for wrapping).
    out.item(`min = ${t.cc[VMIN]}; time = ${t.cc[VTIME]};\n`);
    out.resetColumn();
  } else if (!emptyLine) {
    out.newline();
  }

  let field = FLAG_WORDS[0]?.field;
  emptyLine = true;
  for (const flag of FLAG_WORDS) {
    if (flag.omit) continue;
    if (flag.field !== field) {
      if (!emptyLine) out.newline();
      emptyLine = true;
      field = flag.field;
    }
    if (flagIsOn(t, flag)) {
      if (flag.sane === 'unset') {
        out.item(flag.name);
        emptyLine = false;
      }
    } else if (flag.sane === 'set' && flag.reversible) {
      out.item(`-${flag.name}`);
      emptyLine = false;
    }
  }
  if (!emptyLine) out.newline();
  return out.toString();
}

/** `stty -g` exactly as GNU prints it (GNU stty accepts it back). */
export function formatGnuSaved(t: Termios): string {
  return `${gnuSavedFields(t)}\n`;
}

/** Marks ckpty's extra `-g` field; GNU stty rejects a string that has it. */
export const SAVED_CKPT_TAG = 'ckpt=';

/** `stty -g` with ckpty's extra `:ckpt=HEX` field, so that ckpt survives a round trip. */
export function formatSaved(t: Termios): string {
  return `${gnuSavedFields(t)}:${SAVED_CKPT_TAG}${t.ckpt.toString(16)}\n`;
}

function gnuSavedFields(t: Termios): string {
  const flags = [t.iflag, t.oflag, t.cflag, t.lflag];
  const cc = Array.from({ length: GLIBC_NCCS }, (_, index) => t.cc[index] ?? 0);
  return [...flags, ...cc].map((value) => value.toString(16)).join(':');
}

/** The `speed` word's output. */
export function formatSpeed(t: Termios): string {
  return `${baudOf(t)}\n`;
}

/** The `size` word's output. */
export function formatSize(size: WindowSize): string {
  return `${size.rows} ${size.cols}\n`;
}

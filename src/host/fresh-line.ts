/**
 * Where plain mode puts a status line in a terminal it does not own. It follows the
 * output's current line; the line is short most of the time (`^E` just echoed, or the
 * prompt the shell printed when the frozen job ended, which may come first). When it
 * can, it rewrites that line so the status sits between the key's echo and what came
 * after it:
 *
 *   ^E                                  ^E$ (the prompt came first)
 *   ckpt: froze counter[81] -> ...  <-  becomes the same three lines
 *   $
 */

/** Lines longer than this are not rewritten (nor kept). */
const MAX_TRACKED = 1024;
const NL = 0x0a;
const ESC = 0x1b;
const BEL = 0x07;
const CR = 0x0d;

export class OutputLine {
  /** Bytes written since the last line feed, or undefined when too many to keep. */
  private line: Buffer | undefined = Buffer.alloc(0);
  /** Length of `line` when the checkpoint key was echoed, if it still is the same line. */
  private keyMark: number | undefined;

  /** Follow bytes written to the terminal. */
  output(data: Buffer): void {
    const lastNl = data.lastIndexOf(NL);
    if (lastNl >= 0) {
      this.keyMark = undefined;
      this.line = data.subarray(lastNl + 1);
    } else if (this.line) {
      this.line = Buffer.concat([this.line, data]);
    }
    if (this.line && this.line.length > MAX_TRACKED) this.line = undefined;
    // Keep a copy: the caller may reuse its buffer.
    if (this.line) this.line = Buffer.from(this.line);
  }

  /** The cursor was put at the start of a line this has not seen (the normal screen came back). */
  restart(): void {
    this.keyMark = undefined;
    this.line = Buffer.alloc(0);
  }

  /** The checkpoint key's echo has just been written. */
  markKey(): void {
    this.keyMark = this.line?.length;
  }

  /** The bytes that show `text` on a line of its own; the line is tracked as written. */
  place(text: string, columns: number): Buffer {
    const line = this.line;
    const mark = this.keyMark;
    this.keyMark = undefined;
    const status = Buffer.from(`${text}\r\n`);
    if (line === undefined || replayWidth(line, columns) === undefined) {
      this.line = Buffer.alloc(0);
      return Buffer.concat([Buffer.from('\r\n'), status]);
    }
    const before = line.subarray(0, mark ?? 0);
    const after = line.subarray(mark ?? 0);
    this.line = Buffer.from(after);
    // At the start of an empty line there is nothing to rewrite.
    const parts: Buffer[] = line.length > 0 ? [Buffer.from('\r\x1b[K')] : [];
    // What came before the key stays above the status, unless nothing of it shows.
    if (replayWidth(before, columns) !== 0) parts.push(before, Buffer.from('\r\n'));
    parts.push(status, after);
    return Buffer.concat(parts);
  }
}

/**
 * The width of `line` if writing it again from column 0 draws it the same: printable text, SGR
 * and mode sequences (a prompt's colours, bracketed paste), OSC titles, carriage
 * returns; nothing else that moves the cursor, and short enough not to have wrapped.
 */
function replayWidth(line: Buffer, columns: number): number | undefined {
  let width = 0;
  for (let i = 0; i < line.length; i++) {
    const byte = line[i]!;
    if (byte === ESC) {
      const end = escapeEnd(line, i);
      if (end === undefined) return undefined;
      i = end;
    } else if (byte === BEL) {
      continue;
    } else if (byte === CR) {
      width = 0; // readline starts its prompt with one: replayed from column 0, it lands the same
    } else if (byte < 0x20 || byte === 0x7f) {
      return undefined;
    } else if ((byte & 0xc0) !== 0x80) {
      width++; // one column per character; UTF-8 continuation bytes add none
    }
  }
  return width < columns ? width : undefined;
}

/** Index of the last byte of the harmless escape sequence at `start`, if it is one. */
function escapeEnd(line: Buffer, start: number): number | undefined {
  const kind = line[start + 1];
  if (kind === 0x5b) {
    // CSI: parameters and intermediates, then a final byte; only m (SGR), h and l (modes).
    let i = start + 2;
    while (i < line.length && line[i]! >= 0x20 && line[i]! <= 0x3f) i++;
    const final = line[i];
    return final === 0x6d || final === 0x68 || final === 0x6c ? i : undefined;
  }
  if (kind === 0x5d) {
    // OSC, ended by BEL or ST (ESC \).
    for (let i = start + 2; i < line.length; i++) {
      if (line[i] === BEL) return i;
      if (line[i] === ESC && line[i + 1] === 0x5c) return i + 1;
    }
  }
  return undefined;
}

/**
 * JSON lines, one value per line: what the session's control channel and the native
 * thawer's report channel speak. Writers end each value with a newline; readers get
 * text in chunks that may end anywhere and take it line by line.
 */

/** `value` as one line. */
export function jsonLine(value: unknown): string {
  return `${JSON.stringify(value)}\n`;
}

/** Takes chunks of text and gives back each line they complete, without its newline. */
export class LineSplitter {
  private partial = '';

  push(chunk: string): string[] {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    return lines;
  }

  /** Length of the line still coming in: the bound against a peer that never ends one. */
  get pendingLength(): number {
    return this.partial.length;
  }
}

/**
 * The `ckpty ldisc` implementation: stdin bytes through the model, events to stdout.
 *
 * Each byte is processed as if typed on its own, with a reader waiting on the slave. JSON
 * output has at most one echo event per input byte (all it echoed, after output processing);
 * the terminal shows the concatenation of all echo events. A data event is one read() result:
 * a canonical line as it completes, a byte in non-canonical mode; `"hex":""` is an end-of-file
 * read (EOF at the start of a line).
 */
import { CkptyError, ExitCode } from '../base/errors.js';
import { applySttyArgs } from '../termios/stty.js';
import { ICANON, newPtyTermios } from '../termios/termios.js';
import { eventToJson, pendingToJson, pendingTraceLine, traceLine } from './format.js';
import { LineDiscipline } from './ldisc.js';

export interface LdiscRunOptions {
  json: boolean;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks);
}

export async function runLdisc(sttyArgs: readonly string[], options: LdiscRunOptions): Promise<void> {
  const result = applySttyArgs(newPtyTermios(), sttyArgs);
  if (!result.ok) throw new CkptyError(`stty: ${result.error.message}`, ExitCode.failure);

  const ldisc = new LineDiscipline(result.termios);
  const canonical = (result.termios.lflag & ICANON) !== 0;
  const input = await readAll(process.stdin);
  const lines: string[] = [];
  for (const byte of input) {
    const events = ldisc.input(byte);
    if (options.json) lines.push(...events.map(eventToJson));
    else lines.push(traceLine(byte, events, ldisc.pending(), canonical));
  }
  const pending = ldisc.pending();
  if (pending.length > 0) lines.push(options.json ? pendingToJson(pending) : pendingTraceLine(pending));
  if (lines.length > 0) process.stdout.write(lines.join('\n') + '\n');
}

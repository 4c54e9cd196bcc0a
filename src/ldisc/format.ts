/**
 * How `ckpty ldisc` shows events: JSON lines for programs, a readable trace for people.
 */
import type { LdiscEvent } from './ldisc.js';

export const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** The JSON form of one event: exactly the fields documented for `ckpty ldisc --json`. */
export function eventToJson(event: LdiscEvent): string {
  switch (event.kind) {
    case 'echo':
    case 'data':
      return JSON.stringify({ kind: event.kind, hex: toHex(event.bytes) });
    case 'signal':
      return JSON.stringify({ kind: 'signal', name: event.name });
    case 'flush':
      return JSON.stringify({ kind: 'flush', queue: event.queue });
    default:
      return JSON.stringify({ kind: event.kind });
  }
}

export function pendingToJson(line: Uint8Array): string {
  return JSON.stringify({ kind: 'pending', hex: toHex(line) });
}

const NAMED: Record<number, string> = { 0x07: '\\a', 0x08: '\\b', 0x09: '\\t', 0x0a: '\\n', 0x0d: '\\r', 0x1b: '\\e' };

/** Bytes as a double-quoted C-like string: printable ASCII as is, the rest escaped. */
export function quoteBytes(bytes: Uint8Array): string {
  let text = '';
  for (const b of bytes) {
    if (b === 0x22 || b === 0x5c) text += '\\' + String.fromCharCode(b);
    else if (NAMED[b] !== undefined) text += NAMED[b];
    else if (b >= 0x20 && b < 0x7f) text += String.fromCharCode(b);
    else text += '\\x' + b.toString(16).padStart(2, '0');
  }
  return `"${text}"`;
}

/** A typed byte as stty would name it: `^C`, `^?`, `M-a`, or the character itself. */
export function keyName(byte: number): string {
  const meta = byte >= 0x80 ? 'M-' : '';
  const c = byte & 0x7f;
  if (c === 0x7f) return `${meta}^?`;
  if (c < 0x20) return `${meta}^${String.fromCharCode(c + 0x40)}`;
  return meta + String.fromCharCode(c);
}

function describe(event: LdiscEvent): string {
  switch (event.kind) {
    case 'echo':
      return `echo ${quoteBytes(event.bytes)}`;
    case 'data':
      return event.bytes.length === 0 ? 'reader gets end-of-file' : `reader gets ${quoteBytes(event.bytes)}`;
    case 'signal':
      return `${event.name} to foreground group`;
    case 'flush':
      return `${event.queue} flushed`;
    case 'checkpoint':
      return 'checkpoint the foreground job';
    case 'stop-output':
      return 'output stopped';
    case 'start-output':
      return 'output restarted';
  }
}

/**
 * One trace line for a typed byte, e.g. `^C    -> SIGINT to foreground group, input flushed`.
 * In canonical mode the line typed so far (`lineAfter`) is shown unless the byte delivered it.
 * Left out: the output flush that comes with every input flush, which only discards echoes
 * held back by a stopped output.
 */
export function traceLine(byte: number, events: readonly LdiscEvent[], lineAfter: Uint8Array, canonical: boolean): string {
  const parts = events.filter((e) => !(e.kind === 'flush' && e.queue === 'output')).map(describe);
  if (canonical && !events.some((e) => e.kind === 'data')) parts.push(`line ${quoteBytes(lineAfter)}`);
  if (parts.length === 0) parts.push('nothing');
  return `${keyName(byte).padEnd(5)} -> ${parts.join(', ')}`;
}

export function pendingTraceLine(line: Uint8Array): string {
  return `EOF   -> line ${quoteBytes(line)} still pending (not delivered)`;
}

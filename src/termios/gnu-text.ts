/**
 * Reading what the real GNU stty prints: the in-session stty passes most work to the
 * system's stty, then adds `ckpt` to its `-a` / plain output, and reads its `-a` text
 * back into the model.
 */
import * as T from './termios.js';
import { speedCodeOfBaud, setSpeedCode } from './speed.js';
import { LineWrapper, DEFAULT_WIDTH, formatCchar } from './print.js';
import { CONTROL_CHARS, COUNT_CHARS, FLAG_WORDS, setFlag, writeSlot } from './words.js';

/** A `name = value;` item of the cchar lines. */
interface CcharItem {
  name: string;
  value: number;
}

/** The characters `visible()` puts after `^`: @A-Z[\]^_ for 0-31 and ? for DEL. */
function caretValue(char: string | undefined): number | undefined {
  if (char === '?') return 0x7f;
  const code = char?.charCodeAt(0) ?? -1;
  return code >= 0x40 && code <= 0x5f ? code - 0x40 : undefined;
}

/** Decode one formatCchar() text at `at`, which must be followed by `;`. */
function readCcharValue(text: string, at: number): { value: number; length: number } | undefined {
  if (text.startsWith('<undef>;', at)) return { value: T.VDISABLE, length: 7 };
  if (text[at] === 'M' && text[at + 1] === '-') {
    const caret = text[at + 2] === '^' && text[at + 4] === ';' ? caretValue(text[at + 3]) : undefined;
    if (caret !== undefined) return { value: 0x80 + caret, length: 4 };
    if (text[at + 3] === ';') return { value: 0x80 + (text.charCodeAt(at + 2) & 0x7f), length: 3 };
  }
  if (text[at] === '^' && text[at + 2] === ';') {
    const caret = caretValue(text[at + 1]);
    if (caret !== undefined) return { value: caret, length: 2 };
  }
  if (text[at + 1] === ';' && at < text.length) return { value: text.charCodeAt(at), length: 1 };
  return undefined;
}

const MIN_TIME = /^min = (\d+); time = (\d+);/;

interface CcharBlock {
  items: CcharItem[];
  minTime?: { min: number; time: number };
}

/** Parse cchar items separated by spaces or newlines; undefined if the text is not that. */
function parseCcharBlock(text: string): CcharBlock | undefined {
  const items: CcharItem[] = [];
  let at = 0;
  const skipSeparator = (): boolean => {
    if (at === text.length) return true;
    if (text[at] !== ' ' && text[at] !== '\n') return false;
    at++;
    return true;
  };
  while (at < text.length) {
    const minTime = MIN_TIME.exec(text.slice(at));
    if (minTime) {
      at += minTime[0].length;
      if (!skipSeparator() || at < text.length) return undefined;
      return { items, minTime: { min: Number(minTime[1]), time: Number(minTime[2]) } };
    }
    const name = /^([a-z0-9]+) = /.exec(text.slice(at));
    if (!name?.[1]) return undefined;
    at += name[0].length;
    const value = readCcharValue(text, at);
    if (!value) return undefined;
    items.push({ name: name[1], value: value.value });
    at += value.length + 1;
    if (!skipSeparator()) return undefined;
  }
  return { items };
}

const FLAG_LINE = /^-?[a-z0-9]+( -?[a-z0-9]+)*$/;

/** Rewrap a cchar block with `ckpt = X;` after the last character (GNU wraps it alone). */
function rewrapWithCkpt(block: CcharBlock, ckpt: number, width: number, minTimeEndsLine: boolean): string {
  const out = new LineWrapper(width);
  for (const item of block.items) out.item(`${item.name} = ${formatCchar(item.value)};`);
  out.item(`ckpt = ${formatCchar(ckpt)};`);
  if (block.minTime) {
    const minTime = `min = ${block.minTime.min}; time = ${block.minTime.time};`;
    if (minTimeEndsLine) {
      out.item(`${minTime}\n`);
      out.resetColumn();
    } else {
      out.item(minTime);
    }
  }
  if (!out.atLineStart) out.newline();
  return out.toString();
}

/**
 * Add `ckpt = X;` to GNU `stty -a` output, wrapped as GNU would have wrapped it had it
 * known the character (it goes after `discard`). `width` is the width GNU wrapped at.
 * Returns undefined if the text is not `stty -a` output.
 */
export function insertCkptIntoAll(gnuText: string, ckpt: number, width = DEFAULT_WIDTH): string | undefined {
  const lines = gnuText.split('\n');
  const start = lines.findIndex((line) => line.startsWith('intr = '));
  const end = lines.findIndex((line, index) => index > start && /^-?parenb( |$)/.test(line));
  if (start < 0 || end < 0) return undefined;
  const block = parseCcharBlock(lines.slice(start, end).join('\n'));
  if (!block?.minTime) return undefined;
  const cchars = rewrapWithCkpt(block, ckpt, width, false);
  return [...lines.slice(0, start), cchars + lines.slice(end).join('\n')].join('\n');
}

/**
 * Add `ckpt = X;` to GNU's plain `stty` output (settings that differ from sane) when
 * ckpt is not its sane ^E. Returns undefined if the text is not plain `stty` output.
 */
export function insertCkptIntoChanged(gnuText: string, ckpt: number, width = DEFAULT_WIDTH): string | undefined {
  const lines = gnuText.split('\n');
  const speedEnd = lines.findIndex((line) => /(^| )line = \d+;$/.test(line));
  if (speedEnd < 0) return undefined;
  let end = speedEnd + 1;
  while (end < lines.length && lines[end] !== '' && !FLAG_LINE.test(lines[end] ?? '')) end++;
  const block = parseCcharBlock(lines.slice(speedEnd + 1, end).join('\n'));
  if (!block) return undefined;
  if (ckpt === T.CKPT_DEFAULT) return gnuText;
  const cchars = rewrapWithCkpt(block, ckpt, width, true);
  return [...lines.slice(0, speedEnd + 1), cchars + lines.slice(end).join('\n')].join('\n');
}

export interface ParsedAll {
  termios: T.Termios;
  size?: T.WindowSize;
}

/**
 * Read `stty -a` output (GNU's, or ours with `ckpt`) back into a termios. Bits that
 * `-a` does not show are 0; ckpt is ^E when the text has no ckpt entry.
 */
export function parseGnuAll(text: string): ParsedAll | undefined {
  const head = /^speed (\d+) baud;[ \n](?:rows (\d+); columns (\d+);[ \n])?line = (\d+);\n/.exec(text);
  if (!head) return undefined;
  const t: T.Termios = {
    iflag: 0,
    oflag: 0,
    cflag: 0,
    lflag: 0,
    line: Number(head[4]),
    cc: new Array<number>(T.KERNEL_NCCS).fill(0),
    ckpt: T.CKPT_DEFAULT,
  };
  const speedCode = speedCodeOfBaud(Number(head[1]));
  if (speedCode === undefined) return undefined;
  setSpeedCode(t, speedCode);

  const lines = text.slice(head[0].length).split('\n');
  const flagStart = lines.findIndex((line) => /^-?parenb( |$)/.test(line));
  if (flagStart < 0) return undefined;
  const block = parseCcharBlock(lines.slice(0, flagStart).join('\n'));
  if (!block?.minTime) return undefined;
  for (const item of block.items) {
    const entry = CONTROL_CHARS.find((candidate) => candidate.name === item.name);
    if (!entry) return undefined;
    writeSlot(t, entry.slot, item.value);
  }
  const [min, time] = COUNT_CHARS;
  if (min) writeSlot(t, min.slot, block.minTime.min);
  if (time) writeSlot(t, time.slot, block.minTime.time);

  for (const word of lines.slice(flagStart).join(' ').split(' ')) {
    if (word === '') continue;
    const reversed = word.startsWith('-');
    const flag = FLAG_WORDS.find((entry) => entry.name === (reversed ? word.slice(1) : word));
    if (!flag || flag.omit) return undefined;
    // Words of a multi-bit group show only the one that is on; the others print nothing.
    setFlag(t, flag, reversed);
  }
  const size = head[2] === undefined ? undefined : { rows: Number(head[2]), cols: Number(head[3]) };
  return size ? { termios: t, size } : { termios: t };
}

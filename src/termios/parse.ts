/**
 * stty's argument parser over the termios model: GNU coreutils 9.1's apply_settings()
 * (Linux build) plus the `ckpt` character. GNU validates every argument in a first
 * "checking" pass before it touches the device, then applies them in a second pass;
 * the same two passes here give the same error precedence.
 */
import * as T from './termios.js';
import { SttyError } from './errors.js';
import { speedCodeOf, setSpeedCode } from './speed.js';
import { formatSize, formatSpeed, SAVED_CKPT_TAG } from './print.js';
import {
  COMBINATION_WORDS,
  CONTROL_CHARS,
  COUNT_CHARS,
  FLAG_WORDS,
  setFlag,
  writeSlot,
  type ControlCharWord,
} from './words.js';

const U64_MAX = (1n << 64n) - 1n;
const INT_MAX = 2n ** 31n - 1n;
const C_SPACE = ' \t\n\v\f\r';

function digitValue(char: string | undefined, radix: number): number | undefined {
  if (char === undefined) return undefined;
  const value = parseInt(char, 36);
  return Number.isNaN(value) || value >= radix ? undefined : value;
}

/**
 * GNU's integer_arg(): gnulib xnumtoumax with base 0 and the suffixes b (x512) and
 * B (x1024), which stty allows, bounded by `max`.
 */
export function parseInteger(arg: string, max: bigint): bigint | SttyError {
  const invalid = new SttyError({ kind: 'invalid-integer', arg });
  let i = 0;
  while (i < arg.length && C_SPACE.includes(arg[i] ?? '')) i++;
  if (arg[i] === '-') return invalid;
  if (arg[i] === '+') i++;

  let radix = 10;
  if (arg[i] === '0' && (arg[i + 1] === 'x' || arg[i + 1] === 'X') && digitValue(arg[i + 2], 16) !== undefined) {
    radix = 16;
    i += 2;
  } else if (arg[i] === '0') {
    radix = 8;
  }
  const digitsStart = i;
  let value = 0n;
  for (let digit = digitValue(arg[i], radix); digit !== undefined; digit = digitValue(arg[++i], radix)) {
    value = value * BigInt(radix) + BigInt(digit);
  }
  let overflow = value > U64_MAX;

  let rest: string;
  if (i === digitsStart) {
    // No digits: strtoumax leaves the whole string, and a lone suffix counts as 1.
    if (arg[0] !== 'b' && arg[0] !== 'B') return invalid;
    value = 1n;
    rest = arg;
  } else {
    rest = arg.slice(i);
  }
  if (rest.length > 0) {
    if (rest[0] !== 'b' && rest[0] !== 'B') return invalid;
    value *= rest[0] === 'b' ? 512n : 1024n;
    overflow ||= value > U64_MAX;
    if (rest.length > 1) return invalid;
  }
  if (overflow) return new SttyError({ kind: 'invalid-integer', arg, cause: 'overflow' });
  if (value > max) {
    // gnulib reports values beyond INT_MAX / 2 as EOVERFLOW, smaller ones as ERANGE.
    const cause = value > INT_MAX / 2n ? 'overflow' : 'range';
    return new SttyError({ kind: 'invalid-integer', arg, cause });
  }
  return value;
}

/** The value of a control character argument: `^X`, `^?`, `^-`, `undef`, a character or a number. */
export function parseCcharArg(arg: string): number | SttyError {
  const bytes = new TextEncoder().encode(arg);
  if (bytes.length <= 1) return bytes[0] ?? 0;
  if (arg === '^-' || arg === 'undef') return T.VDISABLE;
  if (bytes[0] === 0x5e) {
    // GNU ignores anything after the second character, and maps non-letters oddly.
    return bytes[1] === 0x3f ? 0x7f : (bytes[1] ?? 0) & ~0o140 & 0xff;
  }
  return integerValue(arg, 0xff);
}

function integerValue(arg: string, max: number | bigint): number | SttyError {
  const value = parseInteger(arg, BigInt(max));
  return value instanceof SttyError ? value : Number(value);
}

function controlCharValue(entry: ControlCharWord, arg: string): number | SttyError {
  return COUNT_CHARS.includes(entry) ? integerValue(arg, 0xff) : parseCcharArg(arg);
}

/** GNU's strtoul(s, 16) as recover_mode uses it: the value and the rest, or undefined. */
function parseHexField(s: string, max: number): { value: number; rest: string } | undefined {
  let i = 0;
  while (i < s.length && C_SPACE.includes(s[i] ?? '')) i++;
  const negative = s[i] === '-';
  if (s[i] === '-' || s[i] === '+') i++;
  if (s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X') && digitValue(s[i + 2], 16) !== undefined) i += 2;
  const start = i;
  let value = 0n;
  for (let digit = digitValue(s[i], 16); digit !== undefined; digit = digitValue(s[++i], 16)) {
    value = value * 16n + BigInt(digit);
  }
  if (i === start || value > U64_MAX) return undefined;
  if (negative) value = (U64_MAX + 1n - value) & U64_MAX;
  if (value > BigInt(max)) return undefined;
  return { value: Number(value), rest: s.slice(i) };
}

export interface SavedSettings {
  iflag: number;
  oflag: number;
  cflag: number;
  lflag: number;
  /** All GLIBC_NCCS c_cc values (the kernel keeps the first KERNEL_NCCS). */
  cc: number[];
  /** Present in ckpty's extended form only. */
  ckpt?: number;
}

/**
 * Parse a `stty -g` string: GNU's form (exactly as GNU's recover_mode accepts it) or
 * ckpty's extended form with a trailing `:ckpt=HEX`.
 */
export function parseSaved(arg: string, dialect: Dialect = 'ckpty'): SavedSettings | undefined {
  const tagAt = arg.lastIndexOf(`:${SAVED_CKPT_TAG}`);
  if (tagAt >= 0 && dialect === 'ckpty') {
    const gnu = parseGnuSaved(arg.slice(0, tagAt));
    const ckpt = parseHexField(arg.slice(tagAt + SAVED_CKPT_TAG.length + 1), 0xff);
    return gnu && ckpt && ckpt.rest === '' ? { ...gnu, ckpt: ckpt.value } : undefined;
  }
  return parseGnuSaved(arg);
}

function parseGnuSaved(arg: string): SavedSettings | undefined {
  const values: number[] = [];
  let rest = arg;
  const fieldCount = 4 + T.GLIBC_NCCS;
  for (let index = 0; index < fieldCount; index++) {
    const field = parseHexField(rest, index < 4 ? 0xffffffff : 0xff);
    const last = index === fieldCount - 1;
    if (!field || (last ? field.rest !== '' : !field.rest.startsWith(':'))) return undefined;
    values.push(field.value);
    rest = field.rest.slice(1);
  }
  const [iflag = 0, oflag = 0, cflag = 0, lflag = 0, ...cc] = values;
  return { iflag, oflag, cflag, lflag, cc };
}

/** glibc's private "input speed 0" iflag bit, which its tcsetattr never passes on. */
const GLIBC_IBAUD0 = 0x80000000;

/**
 * Apply a parsed `-g` string as glibc's tcsetattr passes it to the kernel: without
 * IBAUD0, and only the kernel's KERNEL_NCCS characters.
 */
export function applySaved(t: T.Termios, saved: SavedSettings): void {
  t.iflag = (saved.iflag & ~GLIBC_IBAUD0) >>> 0;
  t.oflag = saved.oflag;
  t.cflag = saved.cflag;
  t.lflag = saved.lflag;
  t.cc = saved.cc.slice(0, T.KERNEL_NCCS);
  if (saved.ckpt !== undefined) t.ckpt = saved.ckpt;
}

/** `stty sane`: every character to its default (ckpt to ^E), every sane flag set or cleared. */
function applySane(t: T.Termios): void {
  for (const entry of [...CONTROL_CHARS, ...COUNT_CHARS]) writeSlot(t, entry.slot, entry.sane);
  for (const flag of FLAG_WORDS) {
    if (flag.sane) setFlag(t, flag, flag.sane === 'unset');
  }
}

const setBits = (value: number, bits: number): number => (value | bits) >>> 0;
const clearBits = (value: number, bits: number): number => (value & ~bits) >>> 0;

/** GNU's combination words, as set_mode() defines them on Linux. */
function applyCombination(t: T.Termios, name: string, reversed: boolean): void {
  /** Character size plus parity: 'off' clears PARENB, 'on' sets it, 'even'/'odd' also set PARODD. */
  const setFraming = (size: number, parity: 'off' | 'on' | 'even' | 'odd'): void => {
    const clear = T.CSIZE | (parity === 'off' ? T.PARENB : 0) | (parity === 'even' ? T.PARODD : 0);
    const set = size | (parity === 'off' ? 0 : T.PARENB) | (parity === 'odd' ? T.PARODD : 0);
    t.cflag = setBits(clearBits(t.cflag, clear), set);
  };
  switch (name) {
    case 'evenp':
    case 'parity':
      setFraming(reversed ? T.CS8 : T.CS7, reversed ? 'off' : 'even');
      return;
    case 'oddp':
      setFraming(reversed ? T.CS8 : T.CS7, reversed ? 'off' : 'odd');
      return;
    case 'nl':
      if (reversed) {
        t.iflag = clearBits(setBits(t.iflag, T.ICRNL), T.INLCR | T.IGNCR);
        t.oflag = clearBits(setBits(t.oflag, T.ONLCR), T.OCRNL | T.ONLRET);
      } else {
        t.iflag = clearBits(t.iflag, T.ICRNL);
        t.oflag = clearBits(t.oflag, T.ONLCR);
      }
      return;
    case 'ek':
      t.cc[T.VERASE] = 0o177;
      t.cc[T.VKILL] = 0o25;
      return;
    case 'sane':
      applySane(t);
      return;
    case 'cbreak':
      t.lflag = reversed ? setBits(t.lflag, T.ICANON) : clearBits(t.lflag, T.ICANON);
      return;
    case 'pass8':
    case 'litout':
      if (reversed) {
        setFraming(T.CS7, 'on');
        t.iflag = setBits(t.iflag, T.ISTRIP);
        if (name === 'litout') t.oflag = setBits(t.oflag, T.OPOST);
      } else {
        setFraming(T.CS8, 'off');
        t.iflag = clearBits(t.iflag, T.ISTRIP);
        if (name === 'litout') t.oflag = clearBits(t.oflag, T.OPOST);
      }
      return;
    case 'raw':
    case 'cooked':
      if ((name === 'raw') === reversed) {
        t.iflag = setBits(t.iflag, T.BRKINT | T.IGNPAR | T.ISTRIP | T.ICRNL | T.IXON);
        t.oflag = setBits(t.oflag, T.OPOST);
        t.lflag = setBits(t.lflag, T.ISIG | T.ICANON);
      } else {
        t.iflag = 0;
        t.oflag = clearBits(t.oflag, T.OPOST);
        t.lflag = clearBits(t.lflag, T.ISIG | T.ICANON | T.XCASE);
        t.cc[T.VMIN] = 1;
        t.cc[T.VTIME] = 0;
      }
      return;
    case 'decctlq':
      t.iflag = reversed ? setBits(t.iflag, T.IXANY) : clearBits(t.iflag, T.IXANY);
      return;
    case 'tabs':
      t.oflag = setBits(clearBits(t.oflag, T.TABDLY), reversed ? T.TAB3 : T.TAB0);
      return;
    case 'lcase':
    case 'LCASE':
      if (reversed) {
        t.lflag = clearBits(t.lflag, T.XCASE);
        t.iflag = clearBits(t.iflag, T.IUCLC);
        t.oflag = clearBits(t.oflag, T.OLCUC);
      } else {
        t.lflag = setBits(t.lflag, T.XCASE);
        t.iflag = setBits(t.iflag, T.IUCLC);
        t.oflag = setBits(t.oflag, T.OLCUC);
      }
      return;
    case 'crt':
      t.lflag = setBits(t.lflag, T.ECHOE | T.ECHOCTL | T.ECHOKE);
      return;
    case 'dec':
      t.cc[T.VINTR] = 3;
      t.cc[T.VERASE] = 0o177;
      t.cc[T.VKILL] = 0o25;
      t.lflag = setBits(t.lflag, T.ECHOE | T.ECHOCTL | T.ECHOKE);
      t.iflag = clearBits(t.iflag, T.IXANY);
      return;
    default:
      throw new Error(`unknown combination word ${name}`);
  }
}

/** Try `word` (without its `-`) as a flag or combination word; false when it is not one. */
function applyModeWord(t: T.Termios, word: string, reversed: boolean): boolean {
  const flag = FLAG_WORDS.find((entry) => entry.name === word);
  if (flag) {
    if (reversed && !flag.reversible) return false;
    setFlag(t, flag, reversed);
    return true;
  }
  const combination = COMBINATION_WORDS.find((entry) => entry.name === word);
  if (combination) {
    if (reversed && !combination.reversible) return false;
    applyCombination(t, word, reversed);
    return true;
  }
  return false;
}

/** 'ckpty' knows the ckpt character; 'gnu' is GNU stty exactly (ckpt is an invalid argument). */
export type Dialect = 'ckpty' | 'gnu';

export interface SttyState {
  termios: T.Termios;
  size: T.WindowSize;
}

interface PassLog {
  /** What `size` and `speed` print. */
  output: string;
  /** Diagnostics GNU prints without failing (`line` out of range). */
  warnings: SttyError[];
}

/** One pass of GNU's apply_settings(); returns the first error, which ends the command. */
function applyPass(
  state: SttyState,
  args: readonly string[],
  checking: boolean,
  dialect: Dialect,
  log: PassLog,
): SttyError | undefined {
  const t = state.termios;
  const cchars = [...CONTROL_CHARS, ...COUNT_CHARS].filter((entry) => dialect === 'ckpty' || entry.slot !== 'ckpt');
  for (let k = 0; k < args.length; k++) {
    const original = args[k] ?? '';
    const reversed = original.startsWith('-');
    const word = reversed ? original.slice(1) : original;
    if (word === 'drain') continue; // only how tcsetattr waits; nothing to model
    if (applyModeWord(t, word, reversed)) continue;
    if (reversed) return new SttyError({ kind: 'invalid-argument', arg: original });

    const takeArgument = (): string | SttyError => {
      const next = args[k + 1];
      if (next === undefined) return new SttyError({ kind: 'missing-argument', arg: word });
      k++;
      return next;
    };

    const cchar = cchars.find((entry) => entry.name === word);
    if (cchar) {
      const arg = takeArgument();
      if (arg instanceof SttyError) return arg;
      const value = controlCharValue(cchar, arg);
      if (value instanceof SttyError) return value;
      writeSlot(t, cchar.slot, value);
      continue;
    }

    switch (word) {
      case 'ispeed':
      case 'ospeed': {
        const arg = takeArgument();
        if (arg instanceof SttyError) return arg;
        if (checking) continue;
        const code = speedCodeOf(arg);
        // cfsetispeed(B0) only marks the struct (glibc's IBAUD0), which tcsetattr drops;
        // an unknown speed makes cfset*speed fail, which GNU ignores.
        if (code !== undefined && !(word === 'ispeed' && code === 0)) setSpeedCode(t, code);
        continue;
      }
      case 'rows':
      case 'cols':
      case 'columns': {
        const arg = takeArgument();
        if (arg instanceof SttyError) return arg;
        if (checking) continue;
        const value = integerValue(arg, INT_MAX);
        if (value instanceof SttyError) return value;
        // struct winsize holds unsigned shorts.
        if (word === 'rows') state.size = { ...state.size, rows: value & 0xffff };
        else state.size = { ...state.size, cols: value & 0xffff };
        continue;
      }
      case 'size':
        if (!checking) log.output += formatSize(state.size);
        continue;
      case 'line': {
        const arg = takeArgument();
        if (arg instanceof SttyError) return arg;
        const value = parseInteger(arg, U64_MAX);
        if (value instanceof SttyError) return value;
        t.line = Number(value & 0xffn);
        if (BigInt(t.line) !== value) log.warnings.push(new SttyError({ kind: 'invalid-line', arg }));
        continue;
      }
      case 'speed':
        if (!checking) log.output += formatSpeed(t);
        continue;
    }

    const speedCode = speedCodeOf(word);
    if (speedCode !== undefined) {
      if (!checking) setSpeedCode(t, speedCode);
      continue;
    }
    const saved = parseSaved(word, dialect);
    if (!saved) return new SttyError({ kind: 'invalid-argument', arg: word });
    applySaved(t, saved);
  }
  return undefined;
}

export type SttyResult =
  | { ok: true; termios: T.Termios; size: T.WindowSize; output: string; warnings: SttyError[] }
  | {
      ok: false;
      error: SttyError;
      /** GNU applies no termios change on error, but rows/cols set before it stay set. */
      size: T.WindowSize;
      output: string;
      warnings: SttyError[];
    };

export interface ApplyOptions {
  /** The device's window size (for `size`, and the base for `rows`/`cols`); default 0x0. */
  size?: T.WindowSize;
  /** Default 'ckpty'. */
  dialect?: Dialect;
}

/**
 * Apply stty setting words to a termios, as `stty WORDS...` does to a terminal.
 * Pure: the input is not modified.
 */
export function applySttyArgs(termios: T.Termios, args: readonly string[], options: ApplyOptions = {}): SttyResult {
  const size = options.size ?? { rows: 0, cols: 0 };
  const dialect = options.dialect ?? 'ckpty';
  const log: PassLog = { output: '', warnings: [] };
  // GNU checks against a zeroed scratch termios; its content only matters to `line`.
  const scratch: SttyState = { termios: zeroTermios(), size };
  const checkError = applyPass(scratch, args, true, dialect, log);
  if (checkError) return { ok: false, error: checkError, size, output: log.output, warnings: log.warnings };

  const state: SttyState = { termios: T.cloneTermios(termios), size };
  const error = applyPass(state, args, false, dialect, log);
  if (error) return { ok: false, error, size: state.size, output: log.output, warnings: log.warnings };
  return { ok: true, termios: state.termios, size: state.size, output: log.output, warnings: log.warnings };
}

function zeroTermios(): T.Termios {
  return { iflag: 0, oflag: 0, cflag: 0, lflag: 0, line: 0, cc: new Array<number>(T.KERNEL_NCCS).fill(0), ckpt: 0 };
}

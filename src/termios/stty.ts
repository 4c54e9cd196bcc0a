/**
 * The stty model's public face: a whole `stty ARGS...` run against a modelled terminal
 * (GNU coreutils 9.1 behaviour plus `ckpt`), and re-exports of the parser and printers.
 */
import { cloneTermios, type Termios, type WindowSize } from './termios.js';
import { SttyError, type QuoteLocale } from './errors.js';
import { applySttyArgs, type Dialect } from './parse.js';
import { DEFAULT_WIDTH, formatAll, formatChanged, formatGnuSaved, formatSaved } from './print.js';

export { SttyError, quote, type SttyProblem, type QuoteLocale } from './errors.js';
export { applySttyArgs, parseCcharArg, parseInteger, parseSaved, applySaved } from './parse.js';
export type { SttyResult, ApplyOptions, SavedSettings, Dialect } from './parse.js';
export {
  DEFAULT_WIDTH,
  formatAll,
  formatChanged,
  formatChanged as formatDiff,
  formatCchar,
  formatGnuSaved,
  formatSaved,
  formatSize,
  formatSpeed,
  SAVED_CKPT_TAG,
} from './print.js';
export type { FormatOptions, FormatAllOptions } from './print.js';
export { insertCkptIntoAll, insertCkptIntoChanged, parseGnuAll, type ParsedAll } from './gnu-text.js';
export { baudOf } from './speed.js';

export interface SttyRunOptions {
  /** The device's window size (default 0x0, a fresh pty's). */
  size?: WindowSize;
  /** Wrap width for -a and plain output. */
  width?: number;
  /** Quote style of diagnostics (GNU follows the locale). */
  locale?: QuoteLocale;
  /** 'gnu': behave exactly as GNU stty (no ckpt anywhere); default 'ckpty'. */
  dialect?: Dialect;
}

export interface SttyRun {
  stdout: string;
  stderr: string;
  /** Exit status, 0 or 1 as GNU's. */
  status: number;
  /** The terminal's settings after the run (unchanged on failure). */
  termios: Termios;
  size: WindowSize;
  /** The device named with -F/--file, if any. */
  device?: string;
}

const LONG_OPTIONS = ['all', 'save', 'file'] as const;

interface Options {
  all: boolean;
  save: boolean;
  device?: string;
  settings: string[];
  /** Whether any argument other than [-]drain is a setting (GNU's !noargs). */
  hasModes: boolean;
  error?: string;
}

/** GNU stty's getopt loop: -a, -g, -F DEV (clustered or long) are options, the rest settings. */
function parseOptions(args: readonly string[]): Options {
  const options: Options = { all: false, save: false, settings: [], hasModes: false };
  const setDevice = (device: string): void => {
    if (options.device !== undefined) options.error ??= 'only one device may be specified';
    options.device = device;
  };
  const setting = (arg: string): void => {
    options.settings.push(arg);
    if (arg !== 'drain' && arg !== '-drain') options.hasModes = true;
  };
  for (let k = 0; k < args.length; k++) {
    const arg = args[k] ?? '';
    if (arg.startsWith('--') && arg.length > 2) {
      const [name = '', value] = arg.slice(2).split(/=(.*)/s, 2);
      const matches = LONG_OPTIONS.filter((option) => option.startsWith(name));
      const option = matches.length === 1 ? matches[0] : undefined;
      if (option === 'file' && (value !== undefined || args[k + 1] !== undefined)) {
        setDevice(value ?? args[++k] ?? '');
      } else if ((option === 'all' || option === 'save') && value === undefined) {
        options[option] = true;
      } else {
        setting(arg);
      }
      continue;
    }
    if (!arg.startsWith('-') || arg.length < 2) {
      setting(arg);
      continue;
    }
    for (let i = 1; i < arg.length; i++) {
      const letter = arg[i];
      if (letter === 'a') options.all = true;
      else if (letter === 'g') options.save = true;
      else if (letter === 'F' && (i + 1 < arg.length || args[k + 1] !== undefined)) {
        setDevice(i + 1 < arg.length ? arg.slice(i + 1) : (args[++k] ?? ''));
        break;
      } else {
        // An unknown letter makes the whole argument a setting (GNU skips it in getopt).
        setting(arg);
        break;
      }
    }
  }
  return options;
}

/** Run `stty ARGS...` against a terminal whose settings are `termios`. */
export function runStty(termios: Termios, args: readonly string[], options: SttyRunOptions = {}): SttyRun {
  const size = options.size ?? { rows: 0, cols: 0 };
  const width = options.width ?? DEFAULT_WIDTH;
  const gnu = options.dialect === 'gnu';
  const parsed = parseOptions(args);
  const base = { termios: cloneTermios(termios), size, ...(parsed.device !== undefined ? { device: parsed.device } : {}) };
  const fail = (message: string): SttyRun => ({ ...base, stdout: '', stderr: `stty: ${message}\n`, status: 1 });

  if (parsed.error) return fail(parsed.error);
  if (parsed.all && parsed.save) return fail(new SttyError({ kind: 'output-style-conflict' }).text(options.locale));
  if (parsed.hasModes && (parsed.all || parsed.save)) {
    return fail(new SttyError({ kind: 'output-style-with-modes' }).text(options.locale));
  }
  const printed = (stdout: string): SttyRun => ({ ...base, stdout, stderr: '', status: 0 });
  if (parsed.all) return printed(formatAll(termios, { size, width, ckpt: !gnu }));
  if (parsed.save) return printed(gnu ? formatGnuSaved(termios) : formatSaved(termios));
  if (!parsed.hasModes) return printed(formatChanged(termios, { width, ckpt: !gnu }));

  const result = applySttyArgs(termios, parsed.settings, { size, dialect: options.dialect ?? 'ckpty' });
  const warnings = result.warnings.map((warning) => warning.stderr(options.locale)).join('');
  if (!result.ok) {
    const stderr = warnings + result.error.stderr(options.locale);
    return { ...base, size: result.size, stdout: result.output, stderr, status: 1 };
  }
  return { ...base, termios: result.termios, size: result.size, stdout: result.output, stderr: warnings, status: 0 };
}

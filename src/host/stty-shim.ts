/**
 * `stty` inside a ckpty session (run by tty/stty, which has already found the system's
 * stty and passes its path first). The session's ckpt character lives in the host, not
 * in the kernel, so this adds it to what the system stty does:
 *   stty ckpt ^T | ckpt undef   set it (the rest of the words go to the system stty)
 *   stty -a / stty               the system's text with `ckpt = X;` among the cchars
 *   stty -g                      the system's string with ckpty's `:ckpt=HEX` field,
 *                                which `stty "$(stty -g)"` accepts back
 *   stty sane                    also resets ckpt to ^E
 *   stty ckpt-pass LIST          the programs the key passes through to (pass-list.ts);
 *                                `stty ckpt-pass` alone prints them
 * Words are validated by the termios model before anything is applied, so a bad ckpt
 * changes nothing. Anything this does not interpret (other terminals, unusual option
 * forms, a session that has gone away) is the system stty's alone.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, fstatSync, openSync, readFileSync, statSync } from 'node:fs';
import { isatty } from 'node:tty';
import { newPtyTermios } from '../termios/termios.js';
import {
  applySaved,
  applySttyArgs,
  formatSaved,
  insertCkptIntoAll,
  insertCkptIntoChanged,
  parseSaved,
  SAVED_CKPT_TAG,
  DEFAULT_WIDTH,
  type QuoteLocale,
} from '../termios/stty.js';
import { CONTROL_CHARS, COUNT_CHARS } from '../termios/words.js';
import { askHost, SOCKET_ENV, type KeyChangeRequest, type SessionKeyState } from '../base/control-protocol.js';
import { formatPassList, parsePassList } from './pass-list.js';

/** The session's pass list word (not a termios setting: the host holds it, as it holds ckpt). */
const PASS_WORD = 'ckpt-pass';

interface SttyCommandLine {
  /** -F DEV / --file=DEV */
  device?: string;
  style?: 'all' | 'save';
  settings: string[];
}

/** Words whose next argument is their value, not a word of its own. */
const WORDS_WITH_VALUE = new Set([
  ...[...CONTROL_CHARS, ...COUNT_CHARS].map((entry) => entry.name),
  'ispeed',
  'ospeed',
  'rows',
  'cols',
  'columns',
  'line',
]);

/**
 * The plain forms of stty's options: -a, --all, -g, --save, -F DEV, -FDEV, --file DEV,
 * --file=DEV, `--`. Undefined for anything else option-like (clusters, abbreviations,
 * --help): those go to the system stty untouched.
 */
function scanCommandLine(args: readonly string[]): SttyCommandLine | undefined {
  const line: SttyCommandLine = { settings: [] };
  const setStyle = (style: 'all' | 'save'): boolean => {
    if (line.style && line.style !== style) return false;
    line.style = style;
    return true;
  };
  for (let k = 0; k < args.length; k++) {
    const arg = args[k]!;
    if (arg === '--') {
      line.settings.push(...args.slice(k + 1));
      break;
    }
    if (arg === '-a' || arg === '--all') {
      if (!setStyle('all')) return undefined;
    } else if (arg === '-g' || arg === '--save') {
      if (!setStyle('save')) return undefined;
    } else if (arg === '-F' || arg === '--file') {
      if (line.device !== undefined || args[k + 1] === undefined) return undefined;
      line.device = args[++k];
    } else if (arg.startsWith('--file=') || arg.startsWith('-F')) {
      if (line.device !== undefined) return undefined;
      line.device = arg.slice(arg.startsWith('-F') ? 2 : '--file='.length);
    } else if (arg.startsWith('--') || /^-[ag]/.test(arg)) {
      return undefined;
    } else {
      line.settings.push(arg);
    }
  }
  return line;
}

/** Whether the words say anything about ckpt, so that the host must be involved. */
function concernsCkpt(settings: readonly string[]): boolean {
  return settings.some((word) => word === 'ckpt' || word === PASS_WORD || word === 'sane' || parseSaved(word)?.ckpt !== undefined);
}

/** `ckpt-pass LIST` taken out of the words: its value ('' when it is the last word), and the rest. */
function takePassWord(settings: readonly string[]): { pass: string | undefined; rest: string[] } {
  const at = settings.indexOf(PASS_WORD);
  if (at < 0) return { pass: undefined, rest: [...settings] };
  return { pass: settings[at + 1] ?? '', rest: [...settings.slice(0, at), ...settings.slice(at + 2)] };
}

/** The words for the system stty: `ckpt X` removed, ckpty's `-g` field cut off. */
function systemWords(settings: readonly string[]): string[] {
  const words: string[] = [];
  for (let i = 0; i < settings.length; i++) {
    const word = settings[i]!;
    if (word === 'ckpt') {
      i++;
    } else if (WORDS_WITH_VALUE.has(word)) {
      words.push(word, ...settings.slice(i + 1, i + 2));
      i++;
    } else if (parseSaved(word)?.ckpt !== undefined) {
      words.push(word.slice(0, word.lastIndexOf(`:${SAVED_CKPT_TAG}`)));
    } else {
      words.push(word);
    }
  }
  return words;
}

/** GNU quotes ‘like this’ when the locale's charset is UTF-8. */
function quoteLocale(): QuoteLocale {
  const locale = process.env.LC_ALL || process.env.LC_CTYPE || process.env.LANG || '';
  return /utf-?8/i.test(locale) ? 'utf8' : 'C';
}

/** The width GNU stty wraps at: its stdout's columns, else $COLUMNS, else 80. */
function outputWidth(): number {
  if (process.stdout.isTTY && process.stdout.columns > 0) return process.stdout.columns;
  const columns = Number(process.env.COLUMNS);
  return Number.isInteger(columns) && columns > 0 ? columns : DEFAULT_WIDTH;
}

class SystemStty {
  constructor(private readonly path: string) {}

  /** Run with our stdin, stdout and stderr; its exit status. */
  run(args: readonly string[]): number {
    const result = spawnSync(this.path, args, { argv0: 'stty', stdio: 'inherit' });
    return this.status(result);
  }

  /**
   * Run with stdout captured, wrapping at `width` as it would on our stdout (GNU takes
   * $COLUMNS when its stdout is not a terminal). Prints its output itself on failure.
   */
  capture(args: readonly string[], width: number): string | number {
    const result = spawnSync(this.path, args, {
      argv0: 'stty',
      stdio: ['inherit', 'pipe', 'inherit'],
      env: { ...process.env, COLUMNS: String(width) },
    });
    const status = this.status(result);
    const stdout = result.stdout?.toString('latin1') ?? '';
    if (status === 0) return stdout;
    process.stdout.write(stdout, 'latin1');
    return status;
  }

  private status(result: ReturnType<typeof spawnSync>): number {
    if (result.error) {
      process.stderr.write(`stty: ${this.path}: ${result.error.message}\n`);
      return 1;
    }
    if (result.signal) process.kill(process.pid, result.signal);
    return result.status ?? 1;
  }
}

/** /dev/tty: whoever opens it gets their controlling terminal. */
const DEV_TTY = makeDevice(5, 0);

/** Whether `device` (or stdin) is the session's terminal. */
function isSessionTerminal(device: string | undefined, tty: string): boolean {
  try {
    const target = device === undefined ? fstatSync(0) : statSync(device);
    if (!target.isCharacterDevice()) return false;
    const rdev = target.rdev === DEV_TTY ? controllingTerminal() : target.rdev;
    return rdev === statSync(tty).rdev;
  } catch {
    return false;
  }
}

/** glibc's makedev(), which is how Node reports st_rdev. */
function makeDevice(major: number, minor: number): number {
  return ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & ~0xff) << 12);
}

/** tty_nr of /proc/self/stat (field 7), in the same encoding. */
function controllingTerminal(): number {
  const stat = readFileSync('/proc/self/stat', 'latin1');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[4]);
}

async function main(systemPath: string, args: readonly string[]): Promise<number> {
  const system = new SystemStty(systemPath);
  const socketPath = process.env[SOCKET_ENV];
  const line = scanCommandLine(args);
  if (!socketPath || !line || (line.style && line.settings.length > 0)) return system.run(args);
  if (!line.style && line.settings.length > 0 && !concernsCkpt(line.settings)) return system.run(args);

  let session: SessionKeyState;
  try {
    const [reply] = await askHost(socketPath, [{ op: 'get' }]);
    if (!reply?.ok) return system.run(args);
    session = reply;
  } catch {
    return system.run(args); // the session has ended; its stty is the system's
  }
  if (!isSessionTerminal(line.device, session.tty)) return system.run(args);
  const deviceArgs = line.device === undefined ? [] : ['-F', line.device];

  if (line.settings.length === 0) {
    const width = outputWidth();
    const style = line.style === 'all' ? ['-a'] : line.style === 'save' ? ['-g'] : [];
    const text = system.capture([...deviceArgs, ...style], width);
    if (typeof text === 'number') return text;
    process.stdout.write(withCkpt(text, line.style, session.ckpt, width), 'latin1');
    return 0;
  }

  const { pass, rest } = takePassWord(line.settings);
  if (pass === '' && rest.length === 0) {
    process.stdout.write(`${PASS_WORD} = ${formatPassList(session.pass)}\n`);
    return 0;
  }
  const passList = pass === undefined ? undefined : parsePassList(pass, session.pass);
  if (typeof passList === 'string') {
    process.stderr.write(`stty: ${PASS_WORD}: ${passList}\n`);
    return 1;
  }
  const base = { ...newPtyTermios(), ckpt: session.ckpt };
  const result = applySttyArgs(base, rest);
  if (!result.ok) {
    process.stderr.write(result.error.stderr(quoteLocale()));
    return 1;
  }
  const words = systemWords(rest);
  if (words.length > 0) {
    const status = system.run([...deviceArgs, ...words]);
    if (status !== 0) return status;
  }
  const change: KeyChangeRequest = {
    ...(result.termios.ckpt !== session.ckpt && { ckpt: result.termios.ckpt }),
    ...(passList && { pass: passList }),
  };
  if (change.ckpt === undefined && change.pass === undefined) return 0;
  let problem: string | undefined;
  try {
    const [reply] = await askHost(socketPath, [{ op: 'set', ...change }]);
    if (!reply?.ok) problem = reply?.error ?? 'no reply from the session';
  } catch (err) {
    problem = (err as Error).message;
  }
  if (problem === undefined) return 0;
  process.stderr.write(`stty: cannot set ${change.ckpt === undefined ? PASS_WORD : 'ckpt'}: ${problem}\n`);
  return 1;
}

/** The system stty's output with the session's ckpt added in the same layout. */
function withCkpt(text: string, style: 'all' | 'save' | undefined, ckpt: number, width: number): string {
  switch (style) {
    case 'all':
      return insertCkptIntoAll(text, ckpt, width) ?? text;
    case 'save': {
      const saved = parseSaved(text.trim());
      if (!saved) return text;
      const termios = newPtyTermios();
      applySaved(termios, saved);
      termios.ckpt = ckpt;
      return formatSaved(termios);
    }
    default:
      return insertCkptIntoChanged(text, ckpt, width) ?? text;
  }
}

/**
 * Node puts back, at exit, the terminal modes its stdin/stdout/stderr had when it
 * started — which would undo the `stty -echo` just done. It skips a descriptor that
 * now names another file, so the terminal ones are pointed at /dev/null first.
 * (Terminal writes are synchronous: everything has been written by now.)
 */
function keepTerminalModes(): void {
  for (const fd of [0, 1, 2]) {
    if (!isatty(fd)) continue;
    closeSync(fd);
    openSync('/dev/null', 'r+'); // takes the lowest free descriptor: this one
  }
}

const [systemPath, ...args] = process.argv.slice(2);
process.exitCode = await main(systemPath ?? '/bin/stty', args);
keepTerminalModes();

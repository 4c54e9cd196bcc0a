/**
 * The prefix key: keyboard bytes go to the program untouched, except that the
 * prefix byte makes the next key a command for ckpty itself (as in screen/tmux).
 *
 * Default `^]` (0x1d), chosen because it clashes least with what runs inside:
 * - `^A` (screen, emacs/readline beginning-of-line) and `^B` (tmux, readline
 *   backward-char, vim page-up) are used every minute, and would also fight a
 *   screen/tmux around or inside ckpty;
 * - `^\` is VQUIT (SIGQUIT), `^C ^Z ^S ^Q ^O ^V ^W ^U ^R ^D` are termios
 *   characters, `^E` is ckpt itself, `^G ^T ^Y ^_` are readline/emacs staples;
 * - `^]` is the traditional "escape to the host" key (telnet, qemu/virsh
 *   console, cu's relative), and inside only vim's jump-to-tag and readline's
 *   rarely bound character-search use it; `^] ^]` still sends it.
 */
import { CkptyError, ExitCode } from '../base/errors.js';
import { parseCcharArg } from '../termios/parse.js';
import { formatCchar } from '../termios/print.js';
import { SttyError } from '../termios/errors.js';
import { VDISABLE } from '../termios/termios.js';

export const DEFAULT_PREFIX = 0x1d;

export type HostCommand = 'freeze' | 'snapshot' | 'list' | 'help' | 'quit' | 'scrollback' | 'literal';

/** The command keys, in the order the help overlay lists them. */
export const COMMAND_KEYS: readonly { key: string; command: HostCommand; help: string }[] = [
  { key: 'f', command: 'freeze', help: 'freeze the foreground job (even when it has ISIG off)' },
  { key: 's', command: 'snapshot', help: 'snapshot the foreground job and let it run on' },
  { key: 'l', command: 'list', help: 'list images here; Enter thaws the selected one' },
  { key: '[', command: 'scrollback', help: 'scrollback: PgUp/PgDn, arrows, g/G, q or Esc leaves' },
  { key: '?', command: 'help', help: 'this help' },
  { key: 'q', command: 'quit', help: 'quit ckpty (asks first when a job is running)' },
];

/** `--prefix` takes a key in stty's notation (`^]`, `^A`, a character or a number). */
export function parsePrefixKey(arg: string): number {
  const value = parseCcharArg(arg);
  if (value instanceof SttyError) throw new CkptyError(`--prefix: ${value.message}`, ExitCode.usage);
  if (value === VDISABLE || value >= 0x80) {
    throw new CkptyError(`--prefix: ${JSON.stringify(arg)} is not a single key`, ExitCode.usage);
  }
  return value;
}

export function keyName(byte: number): string {
  return formatCchar(byte);
}

export type InputPiece =
  | { kind: 'program'; data: Buffer }
  | { kind: 'command'; command: HostCommand }
  | { kind: 'unknown'; key: string }
  | { kind: 'cancel' };

const ESC = 0x1b;

/**
 * Splits keyboard input into bytes for the program and host commands. The
 * prefix may end one read and its command start the next; an escape sequence
 * after the prefix (an arrow key, Esc) cancels, and the whole sequence is eaten
 * so that no stray `[A` reaches the program.
 */
export class PrefixReader {
  private armed = false;

  constructor(readonly prefix: number = DEFAULT_PREFIX) {}

  /** True between the prefix and its command key. */
  get pending(): boolean {
    return this.armed;
  }

  feed(data: Buffer): InputPiece[] {
    const pieces: InputPiece[] = [];
    let start = 0;
    for (let i = 0; i < data.length; i++) {
      const byte = data[i]!;
      if (this.armed) {
        this.armed = false;
        if (byte === ESC) {
          pieces.push({ kind: 'cancel' });
          return pieces;
        }
        pieces.push(this.command(byte));
        start = i + 1;
      } else if (byte === this.prefix) {
        if (i > start) pieces.push({ kind: 'program', data: data.subarray(start, i) });
        this.armed = true;
        start = i + 1;
      }
    }
    if (!this.armed && start < data.length) pieces.push({ kind: 'program', data: data.subarray(start) });
    return pieces;
  }

  private command(byte: number): InputPiece {
    if (byte === this.prefix) return { kind: 'command', command: 'literal' };
    const key = String.fromCharCode(byte);
    const entry = COMMAND_KEYS.find((k) => k.key === key);
    return entry ? { kind: 'command', command: entry.command } : { kind: 'unknown', key: formatCchar(byte) };
  }
}

/**
 * The programs the checkpoint key passes through to: for them `ckpt` is an ordinary byte,
 * as it is for the session's own shell. A shell waiting at its prompt, at any depth
 * (`bash` in bash, `sudo -s`, `su`, `nix-shell`), reads ^E as end-of-line; editors that keep
 * ISIG on use it too (emacs's end-of-line). A job is passed through when it is one process
 * whose name (or executable's name) matches the list. Session option `--pass LIST`, and
 * inside a session `stty ckpt-pass LIST`, change it:
 *
 *   LIST   names separated by commas, `*` matching any characters (`emacs*`);
 *          a plain name starts a new list, `+NAME` adds one, `-NAME` removes one;
 *          `none` is the empty list.
 */
import { CkptyError, ExitCode } from '../base/errors.js';

/** Shells: their prompt is a place the key never freezes, and where the host learns the shell's modes. */
export const SHELLS: readonly string[] = [
  'sh', 'ash', 'dash', 'bash', 'rbash', 'zsh', 'ksh', 'ksh93', 'mksh', 'oksh', 'pdksh', 'yash', 'posh',
  'fish', 'tcsh', 'csh', 'elvish', 'nu', 'xonsh',
];

/** Programs that keep ISIG on and use ^E themselves. */
const EDITORS: readonly string[] = ['emacs', 'emacs-*', 'mg', 'jed', 'joe', 'jmacs', 'jstar', 'jpico', 'rjoe', 'zile'];

export const DEFAULT_PASS: readonly string[] = [...SHELLS, ...EDITORS];

/** `--pass`'s help, the same for `ckpty` and `ckpty shell`. */
export const PASS_OPTION_HELP =
  'programs the key is an ordinary byte for: NAME,… replaces the list, +NAME adds, -NAME removes, none empties ' +
  '(default: shells at their prompt and editors that use ^E; `stty ckpt-pass` changes it inside)';

const NAME = /^[\w.*@%+=:-]+$/;

/** The list `text` makes of `current`, or an error message. */
export function parsePassList(text: string, current: readonly string[] = DEFAULT_PASS): string[] | string {
  if (text.trim() === 'none') return [];
  const items = text.split(',').map((item) => item.trim()).filter((item) => item.length > 0);
  if (items.length === 0) return 'an empty list (the empty list is `none`)';
  const replaces = items.some((item) => !item.startsWith('+') && !item.startsWith('-'));
  const list = replaces ? [] : [...current];
  for (const item of items) {
    const remove = item.startsWith('-');
    const name = item.startsWith('+') || remove ? item.slice(1) : item;
    if (!NAME.test(name)) return `'${item}' is not a program name (LIST: NAME,+NAME,-NAME or none)`;
    const at = list.indexOf(name);
    if (remove && at >= 0) list.splice(at, 1);
    if (!remove && at < 0) list.push(name);
  }
  return list;
}

/** `--pass LIST` on the command line: the list, or a usage error. */
export function passOption(text: string | undefined): string[] {
  if (text === undefined) return [...DEFAULT_PASS];
  const list = parsePassList(text);
  if (typeof list === 'string') throw new CkptyError(`--pass: ${list}`, ExitCode.usage);
  return list;
}

export function formatPassList(list: readonly string[]): string {
  return list.length > 0 ? list.join(',') : 'none';
}

/** Whether any of `names` (a process's comm, its executable's name) matches a pattern of `list`. */
export function matchesList(list: readonly string[], names: readonly string[]): boolean {
  return list.some((pattern) => names.some((name) => matches(pattern, name)));
}

/** `*` matches any characters, everything else itself (no RegExp: this runs on every key press). */
function matches(pattern: string, name: string): boolean {
  const [first = '', ...rest] = pattern.split('*');
  if (rest.length === 0) return pattern === name;
  const last = rest.pop() ?? '';
  if (!name.startsWith(first) || !name.endsWith(last) || name.length < first.length + last.length) return false;
  let at = first.length;
  for (const part of rest) {
    at = name.indexOf(part, at);
    if (at < 0 || at + part.length > name.length - last.length) return false;
    at += part.length;
  }
  return true;
}

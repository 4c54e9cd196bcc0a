/**
 * The status line under the pane: always one row, never written into the pane.
 *   pts/3  fg vim[4242]  ckpt=^E  ckpt: froze bc[4242] -> /home/u/bc.ckpt (1.4 MiB, 9 ms)   ^] ? help
 * The left part (terminal, foreground job, key) is always shown; the message
 * (last event, or what the current mode expects) gets the rest and is cut with
 * an ellipsis when it does not fit.
 */
import { formatCchar } from '../termios/print.js';
import { VDISABLE } from '../termios/termios.js';

export interface StatusFacts {
  /** The pty's slave path, /dev/pts/N. */
  tty: string;
  /** `name[pid]` of the foreground process group (the shell's when no job runs). */
  foreground: string;
  /** The session's ckpt character, 0 when disabled. */
  key: number;
  /** Last event or mode help. */
  message: string;
  /** Shown at the right edge when there is room, e.g. `^] ? help`. */
  hint: string;
}

/** The ckpt key as stty shows it: `^E`, or `<undef>` when disabled. */
export function keyLabel(key: number): string {
  return key === 0 || key === VDISABLE ? '<undef>' : formatCchar(key);
}

function cut(text: string, width: number): string {
  if (width <= 0) return '';
  if (text.length <= width) return text;
  return width === 1 ? '…' : `${text.slice(0, width - 1)}…`;
}

/** The status line, exactly `width` characters wide. */
export function formatStatus(facts: StatusFacts, width: number): string {
  const left = ` ${facts.tty.replace(/^\/dev\//, '')}  fg ${facts.foreground}  ckpt=${keyLabel(facts.key)}  `;
  const hint = facts.hint ? ` ${facts.hint} ` : '';
  const room = width - left.length;
  if (room <= 0) return cut(left, width).padEnd(width);
  // The hint yields before the message does.
  const withHint = facts.message.length + hint.length <= room;
  const message = cut(facts.message, withHint ? room - hint.length : room);
  return (left + message.padEnd(withHint ? room - hint.length : room) + (withHint ? hint : '')).slice(0, width);
}

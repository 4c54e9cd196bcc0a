/**
 * The terminal modes a program can set with output and a repaint must carry: the
 * alternate screen, the cursor, the key encodings, mouse and focus reporting, bracketed
 * paste and the scroll region, as xterm sequences. The same table answers both "set up a
 * terminal in default modes as the program had it" (a thaw) and "put the terminal back
 * as the shell had it" (after a freeze).
 */
import type { Terminal } from '@xterm/headless';
import { cursorHidden, cursorShape, mouseEncoding, scrollRegion } from './internals.js';

export type MouseTracking = 'none' | 'x10' | 'vt200' | 'drag' | 'any';

export interface ScreenModes {
  altScreen: boolean;
  cursorVisible: boolean;
  /** DECSCUSR parameter, 0 for the terminal's default shape. */
  cursorShape: number;
  applicationCursorKeys: boolean;
  applicationKeypad: boolean;
  bracketedPaste: boolean;
  mouseTracking: MouseTracking;
  /** 'DEFAULT', 'SGR' (1006) or 'SGR_PIXELS' (1016). */
  mouseEncoding: string;
  focusEvents: boolean;
  insert: boolean;
  origin: boolean;
  wraparound: boolean;
  reverseWraparound: boolean;
  /** Rows 0-based and inclusive; the whole screen when no region is set. */
  scrollRegion: { top: number; bottom: number };
}

/** A new terminal's modes (`rows` tall). */
export function defaultModes(rows: number): ScreenModes {
  return {
    altScreen: false,
    cursorVisible: true,
    cursorShape: 0,
    applicationCursorKeys: false,
    applicationKeypad: false,
    bracketedPaste: false,
    mouseTracking: 'none',
    mouseEncoding: 'DEFAULT',
    focusEvents: false,
    insert: false,
    origin: false,
    wraparound: true,
    reverseWraparound: false,
    scrollRegion: { top: 0, bottom: rows - 1 },
  };
}

export function readModes(term: Terminal): ScreenModes {
  const modes = term.modes;
  return {
    altScreen: term.buffer.active.type === 'alternate',
    cursorVisible: !cursorHidden(term),
    cursorShape: cursorShape(term),
    applicationCursorKeys: modes.applicationCursorKeysMode,
    applicationKeypad: modes.applicationKeypadMode,
    bracketedPaste: modes.bracketedPasteMode,
    mouseTracking: modes.mouseTrackingMode,
    mouseEncoding: mouseEncoding(term),
    focusEvents: modes.sendFocusMode,
    insert: modes.insertMode,
    origin: modes.originMode,
    wraparound: modes.wraparoundMode,
    reverseWraparound: modes.reverseWraparoundMode,
    scrollRegion: scrollRegion(term),
  };
}

const MOUSE_MODE: Record<MouseTracking, number> = { none: 0, x10: 9, vt200: 1000, drag: 1002, any: 1003 };
const MOUSE_ENCODING: Record<string, number> = { SGR: 1006, SGR_PIXELS: 1016 };

const decset = (mode: number, on: boolean): string => `\x1b[?${mode}${on ? 'h' : 'l'}`;

/**
 * The sequences that take a terminal whose modes are `from` to `to`: only what differs.
 * The alternate screen and the scroll region are left to the caller (they move the
 * cursor and belong with painting, see regionChange).
 */
export function modeChanges(from: ScreenModes, to: ScreenModes): string {
  let out = '';
  const flag = (key: keyof ScreenModes, mode: number): void => {
    if (from[key] !== to[key]) out += decset(mode, to[key] === true);
  };
  flag('applicationCursorKeys', 1);
  if (from.applicationKeypad !== to.applicationKeypad) out += to.applicationKeypad ? '\x1b=' : '\x1b>';
  flag('bracketedPaste', 2004);
  flag('focusEvents', 1004);
  flag('origin', 6);
  flag('wraparound', 7);
  flag('reverseWraparound', 45);
  if (from.insert !== to.insert) out += to.insert ? '\x1b[4h' : '\x1b[4l';
  if (from.mouseTracking !== to.mouseTracking) {
    out += to.mouseTracking === 'none' ? decset(MOUSE_MODE[from.mouseTracking], false) : decset(MOUSE_MODE[to.mouseTracking], true);
  }
  if (from.mouseEncoding !== to.mouseEncoding) {
    const off = MOUSE_ENCODING[from.mouseEncoding];
    const on = MOUSE_ENCODING[to.mouseEncoding];
    if (off !== undefined) out += decset(off, false);
    if (on !== undefined) out += decset(on, true);
  }
  if (from.cursorShape !== to.cursorShape) out += `\x1b[${to.cursorShape} q`;
  flag('cursorVisible', 25);
  return out;
}

/**
 * DECSTBM for `to`'s scroll region when it differs from `from`'s. Setting a region homes
 * the cursor: `keepCursor` wraps it in DECSC/DECRC for a caller that does not place the
 * cursor afterwards.
 */
export function regionChange(from: ScreenModes, to: ScreenModes, keepCursor: boolean): string {
  const a = from.scrollRegion;
  const b = to.scrollRegion;
  if (a.top === b.top && a.bottom === b.bottom) return '';
  const set = `\x1b[${b.top + 1};${b.bottom + 1}r`;
  return keepCursor ? `\x1b7${set}\x1b8` : set;
}

/**
 * Keys a tape can press and the bytes a terminal sends for them. Cursor keys depend on
 * the screen's cursor-key mode (DECCKM), which only the runner knows, so a key is kept
 * as a description and turned into bytes when it is pressed.
 */

/** Keys with a name of their own (a VHS command each, except Home/End/Insert/Delete). */
export const NAMED_KEYS = [
  'Enter',
  'Backspace',
  'Delete',
  'Insert',
  'Tab',
  'Escape',
  'Space',
  'Up',
  'Down',
  'Left',
  'Right',
  'Home',
  'End',
  'PageUp',
  'PageDown',
] as const;

export type NamedKey = (typeof NAMED_KEYS)[number];

export interface KeySpec {
  /** A named key, or one character. */
  base: { named: NamedKey } | { char: string };
  ctrl: boolean;
  alt: boolean;
  shift: boolean;
}

const PLAIN_BYTES: Record<NamedKey, string> = {
  Enter: '\r',
  Backspace: '\x7f',
  Delete: '\x1b[3~',
  Insert: '\x1b[2~',
  Tab: '\t',
  Escape: '\x1b',
  Space: ' ',
  Up: '\x1b[A',
  Down: '\x1b[B',
  Right: '\x1b[C',
  Left: '\x1b[D',
  Home: '\x1b[H',
  End: '\x1b[F',
  PageUp: '\x1b[5~',
  PageDown: '\x1b[6~',
};

/** In application cursor mode the arrows, Home and End send SS3 (ESC O) instead of CSI. */
const APPLICATION_CURSOR = new Set<NamedKey>(['Up', 'Down', 'Right', 'Left', 'Home', 'End']);

/** Characters that Ctrl turns into C0 controls besides the letters (as xterm does). */
const CTRL_PUNCTUATION: Record<string, number> = { '@': 0, ' ': 0, '[': 27, '\\': 28, ']': 29, '^': 30, _: 31, '?': 127 };

export function isNamedKey(word: string): word is NamedKey {
  return (NAMED_KEYS as readonly string[]).includes(word);
}

/** The control byte Ctrl+`char` sends, or undefined when Ctrl does nothing to it. */
export function ctrlByte(char: string): string | undefined {
  const lower = char.toLowerCase();
  if (lower.length === 1 && lower >= 'a' && lower <= 'z') return String.fromCharCode(lower.charCodeAt(0) - 96);
  const code = CTRL_PUNCTUATION[char];
  return code === undefined ? undefined : String.fromCharCode(code);
}

export function keyBytes(key: KeySpec, applicationCursorKeys: boolean): string {
  let bytes: string;
  if ('named' in key.base) {
    const named = key.base.named;
    if (key.shift && named === 'Tab') bytes = '\x1b[Z';
    else if (applicationCursorKeys && APPLICATION_CURSOR.has(named)) bytes = `\x1bO${PLAIN_BYTES[named].slice(2)}`;
    else bytes = PLAIN_BYTES[named];
    if (key.ctrl) bytes = named === 'Space' ? '\x00' : bytes;
  } else {
    bytes = key.ctrl ? (ctrlByte(key.base.char) ?? key.base.char) : key.base.char;
  }
  return key.alt ? `\x1b${bytes}` : bytes;
}

/**
 * The few facts of @xterm/headless 6.0.0 (pinned) that its public API does not give and
 * a repaint needs: the cursor's visibility and shape, the mouse encoding, the scroll
 * region; whether its parser is between sequences, and whether it maps printed
 * characters through a character set. Read from the core's services,
 * by name; test/screen-model.test.ts fails if a new version moves them.
 */
import type { Terminal } from '@xterm/headless';

interface Core {
  coreService: {
    isCursorHidden: boolean;
    decPrivateModes: { cursorStyle?: 'block' | 'underline' | 'bar'; cursorBlink?: boolean };
  };
  coreMouseService: { activeEncoding: string };
  /** The character set printed characters go through now (G0..G3 as shifted in); undefined for US ASCII. */
  _charsetService: { charset: object | undefined };
  _inputHandler: {
    onRequestRefreshRows(listener: (rows: { start: number; end: number } | undefined) => void): unknown;
    _parser: { currentState: number };
    _utf8Decoder: { interim: Uint8Array };
    _curAttrData: { fg: number; bg: number };
  };
  buffers: { active: Margins; normal: Margins };
}

interface Margins {
  scrollTop: number;
  scrollBottom: number;
}

function core(term: Terminal): Core {
  return (term as unknown as { _core: Core })._core;
}

export function cursorHidden(term: Terminal): boolean {
  return core(term).coreService.isCursorHidden;
}

/** DECSCUSR's parameter for the cursor's shape; 0 while the program has not set one. */
export function cursorShape(term: Terminal): number {
  const { cursorStyle, cursorBlink } = core(term).coreService.decPrivateModes;
  if (cursorStyle === undefined) return 0;
  const steady = cursorBlink ? 0 : 1;
  return { block: 1, underline: 3, bar: 5 }[cursorStyle] + steady;
}

/** 'DEFAULT', 'SGR' (1006) or 'SGR_PIXELS' (1016): the encodings xterm.js implements. */
export function mouseEncoding(term: Terminal): string {
  return core(term).coreMouseService.activeEncoding;
}

/**
 * A buffer's scroll region (DECSTBM), rows 0-based and inclusive: the active one's, or the
 * normal one's (xterm.js keeps a region per buffer; leaving the alternate screen brings
 * the normal one's back).
 */
export function scrollRegion(term: Terminal, buffer: 'active' | 'normal' = 'active'): { top: number; bottom: number } {
  const { scrollTop, scrollBottom } = core(term).buffers[buffer];
  return { top: scrollTop, bottom: scrollBottom };
}

/**
 * Calls `listener` after each parse with the rows of the screen it changed (undefined:
 * all of them, e.g. on a switch to the other screen) — what xterm.js's renderer repaints.
 */
export function onRowsChanged(term: Terminal, listener: (rows: { start: number; end: number } | undefined) => void): void {
  core(term)._inputHandler.onRequestRefreshRows(listener);
}

/** Whether the program writes with the default attributes now (no colour, bold …; SGR 0). */
export function defaultAttributes(term: Terminal): boolean {
  const { fg, bg } = core(term)._inputHandler._curAttrData;
  return fg === 0 && bg === 0;
}

/** Whether printed characters come out as they are (US ASCII; not DEC graphics, a national set …). */
export function plainCharset(term: Terminal): boolean {
  return core(term)._charsetService.charset === undefined;
}

/** The parser's GROUND state: not inside an escape sequence or string. */
const GROUND = 0;

/**
 * Whether the next byte parsed starts afresh: the parser is not inside a sequence and the
 * UTF-8 decoder holds no first half of a character (which could be a C1 control's).
 */
export function parserAtRest(term: Terminal): boolean {
  const input = core(term)._inputHandler;
  return input._parser.currentState === GROUND && input._utf8Decoder.interim[0] === 0;
}

/**
 * Pixel geometry shared by the tape runner (how many columns and rows fit in
 * `Set Width`/`Set Height`, as in VHS) and the SVG screenshot (where each cell goes).
 */

export interface FrameStyle {
  width: number;
  height: number;
  fontSize: number;
  lineHeight: number;
  padding: number;
}

export interface FrameGeometry {
  charWidth: number;
  cellHeight: number;
  /** Height of the window bar with the three dots. */
  barHeight: number;
  columns: number;
  rows: number;
}

/** Monospace fonts are about 0.6 em wide; a CSS "normal" line is about 1.2 em. */
const CHAR_WIDTH_EM = 0.6;
const LINE_EM = 1.2;

export function frameGeometry(style: FrameStyle): FrameGeometry {
  const charWidth = style.fontSize * CHAR_WIDTH_EM;
  const cellHeight = style.fontSize * LINE_EM * style.lineHeight;
  const barHeight = Math.round(style.fontSize * 1.6);
  return {
    charWidth,
    cellHeight,
    barHeight,
    columns: Math.max(0, Math.floor((style.width - 2 * style.padding) / charWidth)),
    rows: Math.max(0, Math.floor((style.height - 2 * style.padding - barHeight) / cellHeight)),
  };
}

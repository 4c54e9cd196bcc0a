/**
 * A headless terminal screen (@xterm/headless) and a plain-data copy of what it shows,
 * which the screenshot renderers and the tape runner's waits work from.
 */
import xtermHeadless from '@xterm/headless';
import type { IBufferCell, Terminal as XTerminal } from '@xterm/headless';

const { Terminal } = xtermHeadless;

export type Color = { kind: 'default' } | { kind: 'palette'; index: number } | { kind: 'rgb'; rgb: number };

export interface CellStyle {
  fg: Color;
  bg: Color;
  bold: boolean;
  dim: boolean;
  italic: boolean;
  underline: boolean;
  inverse: boolean;
  invisible: boolean;
  strikethrough: boolean;
}

/** Consecutive cells of one style on one row. */
export interface Run {
  column: number;
  /** Cells covered (a wide character covers two). */
  width: number;
  text: string;
  style: CellStyle;
}

export interface ScreenSnapshot {
  columns: number;
  rows: number;
  cursor: { x: number; y: number; visible: boolean };
  /** One array of runs per row, covering every column. */
  lines: Run[][];
}

/** A screen fed with a program's output. */
export class Screen {
  readonly terminal: XTerminal;
  private cursorVisible = true;

  constructor(columns: number, rows: number) {
    this.terminal = new Terminal({ cols: columns, rows, allowProposedApi: true, scrollback: 1000 });
    // The public API does not tell whether the cursor is shown (DECTCEM): watch for it.
    const watchCursor = (visible: boolean) => (params: (number | number[])[]) => {
      if (params.includes(25)) this.cursorVisible = visible;
      return false;
    };
    this.terminal.parser.registerCsiHandler({ prefix: '?', final: 'h' }, watchCursor(true));
    this.terminal.parser.registerCsiHandler({ prefix: '?', final: 'l' }, watchCursor(false));
  }

  /** Resolves once `data` has been parsed into the screen. */
  write(data: string): Promise<void> {
    return new Promise((resolve) => this.terminal.write(data, resolve));
  }

  get applicationCursorKeys(): boolean {
    return this.terminal.modes.applicationCursorKeysMode;
  }

  /** The visible rows as text, without trailing blanks. */
  text(): string[] {
    const buffer = this.terminal.buffer.active;
    const rows: string[] = [];
    for (let y = 0; y < this.terminal.rows; y++) {
      rows.push((buffer.getLine(buffer.viewportY + y)?.translateToString(true) ?? '').trimEnd());
    }
    return rows;
  }

  /** The row the cursor is on, without trailing blanks. */
  cursorLine(): string {
    return this.text()[this.terminal.buffer.active.cursorY] ?? '';
  }

  snapshot(): ScreenSnapshot {
    const buffer = this.terminal.buffer.active;
    const scratch = buffer.getNullCell();
    const lines: Run[][] = [];
    for (let y = 0; y < this.terminal.rows; y++) {
      const line = buffer.getLine(buffer.viewportY + y);
      const runs: Run[] = [];
      for (let x = 0; x < this.terminal.cols; x++) {
        const cell = line?.getCell(x, scratch);
        if (cell && cell.getWidth() === 0) continue; // the right half of a wide character
        const style = cell ? styleOf(cell) : DEFAULT_STYLE;
        const text = cell?.getChars() || ' ';
        const width = cell?.getWidth() ?? 1;
        const last = runs[runs.length - 1];
        if (last && sameStyle(last.style, style)) {
          last.text += text;
          last.width += width;
        } else {
          runs.push({ column: x, width, text, style });
        }
      }
      lines.push(runs);
    }
    return {
      columns: this.terminal.cols,
      rows: this.terminal.rows,
      cursor: { x: buffer.cursorX, y: buffer.cursorY, visible: this.cursorVisible },
      lines,
    };
  }

  dispose(): void {
    this.terminal.dispose();
  }
}

const DEFAULT_COLOR: Color = { kind: 'default' };

export const DEFAULT_STYLE: CellStyle = {
  fg: DEFAULT_COLOR,
  bg: DEFAULT_COLOR,
  bold: false,
  dim: false,
  italic: false,
  underline: false,
  inverse: false,
  invisible: false,
  strikethrough: false,
};

function styleOf(cell: IBufferCell): CellStyle {
  if (cell.isAttributeDefault()) return DEFAULT_STYLE;
  return {
    fg: cell.isFgDefault() ? DEFAULT_COLOR : cell.isFgRGB() ? { kind: 'rgb', rgb: cell.getFgColor() } : { kind: 'palette', index: cell.getFgColor() },
    bg: cell.isBgDefault() ? DEFAULT_COLOR : cell.isBgRGB() ? { kind: 'rgb', rgb: cell.getBgColor() } : { kind: 'palette', index: cell.getBgColor() },
    bold: cell.isBold() !== 0,
    dim: cell.isDim() !== 0,
    italic: cell.isItalic() !== 0,
    underline: cell.isUnderline() !== 0,
    inverse: cell.isInverse() !== 0,
    invisible: cell.isInvisible() !== 0,
    strikethrough: cell.isStrikethrough() !== 0,
  };
}

function sameColor(a: Color, b: Color): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'palette') return a.index === (b as typeof a).index;
  if (a.kind === 'rgb') return a.rgb === (b as typeof a).rgb;
  return true;
}

export function sameStyle(a: CellStyle, b: CellStyle): boolean {
  return (
    sameColor(a.fg, b.fg) &&
    sameColor(a.bg, b.bg) &&
    a.bold === b.bold &&
    a.dim === b.dim &&
    a.italic === b.italic &&
    a.underline === b.underline &&
    a.inverse === b.inverse &&
    a.invisible === b.invisible &&
    a.strikethrough === b.strikethrough
  );
}

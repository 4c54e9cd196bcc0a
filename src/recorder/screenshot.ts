/**
 * Pictures of a screen snapshot: plain text, an SVG in a terminal window frame (for
 * READMEs), and the escape sequences that repaint it on another terminal (used when a
 * recording resumes after `Hide`). All pure functions of the snapshot.
 */
import { paletteRgb } from '../screen/palette.js';
import { frameGeometry, type FrameStyle } from './geometry.js';
import { DEFAULT_STYLE, sameStyle, type CellStyle, type Color, type Run, type ScreenSnapshot } from './screen.js';

/** The screen's rows without trailing blanks, and without the blank rows at the bottom. */
export function renderText(snapshot: ScreenSnapshot): string {
  const rows = snapshot.lines.map((runs) => runs.map((run) => run.text).join('').trimEnd());
  while (rows.length > 0 && rows[rows.length - 1] === '') rows.pop();
  return rows.map((row) => `${row}\n`).join('');
}

export interface SvgStyle extends FrameStyle {
  fontFamily: string;
  /** Shown in the window bar. */
  title?: string;
}

/** Window and text colours, and the first 16 palette entries (the rest are xterm's fixed ones). */
const THEME = {
  background: '#1e1f29',
  foreground: '#e6e6e6',
  bar: '#2b2d3a',
  cursor: '#e6e6e6',
  dots: ['#ff5f58', '#ffbd2e', '#28c840'],
  ansi: [
    '#21222c', '#ff5555', '#50fa7b', '#f1fa8c', '#bd93f9', '#ff79c6', '#8be9fd', '#f8f8f2',
    '#6272a4', '#ff6e6e', '#69ff94', '#ffffa5', '#d6acff', '#ff92df', '#a4ffff', '#ffffff',
  ],
};

export function renderSvg(snapshot: ScreenSnapshot, style: SvgStyle): string {
  const { charWidth, cellHeight, barHeight } = frameGeometry(style);
  const originX = style.padding;
  const originY = barHeight + style.padding;
  const baseline = (cellHeight - style.fontSize) / 2 + style.fontSize * 0.8;
  const backgrounds: string[] = [];
  const texts: string[] = [];

  snapshot.lines.forEach((runs, row) => {
    const y = row * cellHeight;
    for (const run of runs) {
      const { fg, bg } = runColors(run.style);
      const x = run.column * charWidth;
      const width = run.width * charWidth;
      if (bg !== THEME.background) {
        backgrounds.push(`<rect x="${num(x)}" y="${num(y)}" width="${num(width)}" height="${num(cellHeight)}" fill="${bg}"/>`);
      }
      if (run.style.invisible || run.text.trim() === '') continue;
      const attributes = [
        `x="${num(x)}"`,
        `y="${num(y + baseline)}"`,
        `textLength="${num(width)}"`,
        'lengthAdjust="spacingAndGlyphs"',
        `fill="${fg}"`,
        run.style.bold ? 'font-weight="bold"' : '',
        run.style.italic ? 'font-style="italic"' : '',
        run.style.dim ? 'fill-opacity="0.6"' : '',
        run.style.underline || run.style.strikethrough
          ? `text-decoration="${[run.style.underline ? 'underline' : '', run.style.strikethrough ? 'line-through' : ''].join(' ').trim()}"`
          : '',
      ].filter((attribute) => attribute !== '');
      texts.push(`<text ${attributes.join(' ')}>${escapeXml(run.text)}</text>`);
    }
  });

  const { cursor } = snapshot;
  const cursorRect = cursor.visible
    ? `<rect x="${num(cursor.x * charWidth)}" y="${num(cursor.y * cellHeight)}" width="${num(charWidth)}" height="${num(cellHeight)}" fill="${THEME.cursor}" fill-opacity="0.7"/>`
    : '';
  const dotRadius = barHeight * 0.2;
  const dots = THEME.dots
    .map((color, index) => `<circle cx="${num(style.padding / 2 + dotRadius + index * dotRadius * 3.2)}" cy="${num(barHeight / 2)}" r="${num(dotRadius)}" fill="${color}"/>`)
    .join('');
  const title = style.title
    ? `<text x="${num(style.width / 2)}" y="${num(barHeight / 2 + style.fontSize * 0.3)}" text-anchor="middle" fill="#9a9cab" font-size="${num(style.fontSize * 0.8)}">${escapeXml(style.title)}</text>`
    : '';

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${style.width}" height="${style.height}" viewBox="0 0 ${style.width} ${style.height}">`,
    `<rect width="${style.width}" height="${style.height}" rx="10" ry="10" fill="${THEME.background}"/>`,
    `<path d="M0 ${barHeight}V10a10 10 0 0 1 10-10H${style.width - 10}a10 10 0 0 1 10 10V${barHeight}Z" fill="${THEME.bar}"/>`,
    dots,
    title,
    `<g transform="translate(${num(originX)} ${num(originY)})" font-family="${escapeXml(style.fontFamily)}" font-size="${num(style.fontSize)}" xml:space="preserve">`,
    ...backgrounds,
    cursorRect,
    ...texts,
    '</g>',
    '</svg>',
    '',
  ]
    .filter((line) => line !== '')
    .join('\n');
}

/** Escape sequences that draw the snapshot on a terminal of its size, from a blank screen. */
export function renderRepaint(snapshot: ScreenSnapshot): string {
  let out = '\x1b[0m\x1b[H\x1b[2J';
  snapshot.lines.forEach((runs, row) => {
    const visible = trimBlankEnd(runs);
    if (visible.length === 0) return;
    out += `\x1b[${row + 1};1H`;
    for (const run of visible) out += `${sgr(run.style)}${run.text}`;
    out += '\x1b[0m';
  });
  out += `\x1b[${snapshot.cursor.y + 1};${snapshot.cursor.x + 1}H`;
  out += snapshot.cursor.visible ? '\x1b[?25h' : '\x1b[?25l';
  return out;
}

function trimBlankEnd(runs: Run[]): Run[] {
  const kept = [...runs];
  for (let last = kept.at(-1); last !== undefined; last = kept.at(-1)) {
    if (!sameStyle(last.style, DEFAULT_STYLE)) break;
    const trimmed = last.text.trimEnd();
    if (trimmed !== '') {
      kept[kept.length - 1] = { ...last, text: trimmed, width: last.width - (last.text.length - trimmed.length) };
      break;
    }
    kept.pop();
  }
  return kept;
}

function sgr(style: CellStyle): string {
  const codes = ['0'];
  if (style.bold) codes.push('1');
  if (style.dim) codes.push('2');
  if (style.italic) codes.push('3');
  if (style.underline) codes.push('4');
  if (style.inverse) codes.push('7');
  if (style.invisible) codes.push('8');
  if (style.strikethrough) codes.push('9');
  codes.push(...colorCodes(style.fg, 30), ...colorCodes(style.bg, 40));
  return `\x1b[${codes.join(';')}m`;
}

/** SGR parameters of a colour; `base` is 30 for the foreground, 40 for the background. */
function colorCodes(color: Color, base: number): string[] {
  if (color.kind === 'default') return [];
  if (color.kind === 'rgb') return [`${base + 8}`, '2', `${(color.rgb >> 16) & 0xff}`, `${(color.rgb >> 8) & 0xff}`, `${color.rgb & 0xff}`];
  if (color.index < 8) return [`${base + color.index}`];
  if (color.index < 16) return [`${base + 60 + color.index - 8}`];
  return [`${base + 8}`, '5', `${color.index}`];
}

function runColors(style: CellStyle): { fg: string; bg: string } {
  // Bold text in one of the eight basic colours is drawn bright, as xterm does.
  const fgColor = style.bold && style.fg.kind === 'palette' && style.fg.index < 8 ? { kind: 'palette' as const, index: style.fg.index + 8 } : style.fg;
  const fg = cssColor(fgColor, THEME.foreground);
  const bg = cssColor(style.bg, THEME.background);
  return style.inverse ? { fg: bg, bg: fg } : { fg, bg };
}

function cssColor(color: Color, fallback: string): string {
  if (color.kind === 'default') return fallback;
  if (color.kind === 'palette' && color.index < 16) return THEME.ansi[color.index] ?? fallback;
  const rgb = color.kind === 'rgb' ? color.rgb : (paletteRgb(color.index) ?? 0);
  return `#${rgb.toString(16).padStart(6, '0')}`;
}

/** XML text: the five specials escaped, and the control characters XML 1.0 forbids dropped. */
function escapeXml(text: string): string {
  return text
    .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** Numbers with at most two decimals, so the SVG stays small and stable. */
function num(value: number): string {
  return String(Math.round(value * 100) / 100);
}
